// Host-wide locks that the kernel releases when their holder exits, however it
// exits: a lock is a listening Unix socket in the store's locks/, and the
// socket of a process that is gone refuses connections at once. The
// proper-lockfile locks before these were judged stale by mtime alone and
// outlived a `kill -9` of the supervisor, or a container host's reboot (same
// kernel, so /proc/stat's btime stays), by 55-60 s, measured on the test fleet:
// too late for every container to serve again within 60 s of a reboot.
// Not abstract-namespace sockets ("\0name"), which leave no file: Node 18 with
// libuv 1.44 (the fleet's Debian bookworm) binds every such name to the same
// all-zero one, so all locks would be one lock (fixed by nodejs/node#49667).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/**
 * Host-wide locks by name (store.ts LOCKS), so concurrent conductor processes
 * on a host do not interleave. Not re-entrant: a process that holds a lock
 * waits for itself like any other (no caller nests the same name).
 */
export interface Locks {
  /** Runs `fn` holding the lock `name`, waiting (up to about two minutes) for it. */
  hold<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the lock if it is free; undefined, without running, when another holds it. */
  tryHold<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
}

const HOLD_TIMEOUT_MS = 120_000;
/** sun_path holds 108 bytes with its NUL (unix(7)); Node 18 silently truncates longer paths. */
const MAX_SOCKET_PATH = 107;
/** `.` and the hex of a temporary socket's name, beside the lock's (publish). */
const TEMP_SUFFIX = 13;
/** A remover's turn lasts a few syscalls; an older one is a remover killed in it. */
const REAPING_STALE_MS = 5_000;

type Release = () => Promise<void>;

/** Locks as sockets in `dir` (the store's locks/, made root-only). */
export function socketLocks(dir: string, { holdTimeoutMs = HOLD_TIMEOUT_MS } = {}): Locks {
  return {
    async hold(name, fn) {
      const file = socketPath(dir, name);
      const deadline = Date.now() + holdTimeoutMs;
      let release: Release | undefined;
      while (!(release = await take(file))) {
        if (Date.now() >= deadline) {
          throw new Error(
            `lock ${name}: another process still holds it after ${holdTimeoutMs / 1000} s (${file})`,
          );
        }
        // Jittered, so waiters do not poll in step.
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
      }
      return holding(release, fn);
    },
    async tryHold(name, fn) {
      const release = await take(socketPath(dir, name));
      return release ? holding(release, fn) : undefined;
    },
  };
}

async function holding<T>(release: Release, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** The socket of lock `name`; a name too long for sun_path goes by its hash. */
export function socketPath(dir: string, name: string): string {
  const fits = (file: string) => Buffer.byteLength(file) + TEMP_SUFFIX <= MAX_SOCKET_PATH;
  const plain = path.join(path.resolve(dir), `${name}.sock`);
  if (fits(plain)) return plain;
  const hash = crypto.createHash("sha256").update(name).digest("hex").slice(0, 32);
  const hashed = path.join(path.resolve(dir), `${hash}.sock`);
  if (fits(hashed)) return hashed;
  throw new Error(`${dir}: too long a path for lock sockets (at most ${MAX_SOCKET_PATH} bytes)`);
}

/** The lock at `file` if it is free or its holder is dead; undefined while a live one holds it. */
async function take(file: string): Promise<Release | undefined> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const release = await publish(file);
  if (release) return release;
  const seen = identity(file);
  if (seen) {
    if (await answers(file)) return undefined;
    reap(file, seen);
  }
  return publish(file);
}

/**
 * Listens on a temporary socket, then links it to `file`, which fails while
 * `file` exists. So a socket at `file` always listens already: one that
 * refuses connections is dead, never one between its bind and listen.
 */
async function publish(file: string): Promise<Release | undefined> {
  const temp = `${file}.${crypto.randomBytes(6).toString("hex")}`;
  const server = await listen(temp);
  try {
    fs.linkSync(temp, file);
  } catch (err) {
    await close(server); // libuv removes `temp` as it closes
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw err;
  }
  fs.rmSync(temp, { force: true });
  // Only now: each link and unlink changes the inode's ctime.
  const own = identity(file)!;
  return async () => {
    if (same(identity(file), own)) fs.rmSync(file, { force: true });
    await close(server);
  };
}

/** A server on `file` that only holds the name: it hangs up on whoever connects and keeps no process alive. */
function listen(file: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ path: file }, () => {
      server.off("error", reject);
      resolve(server.unref());
    });
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Whether a live process listens on `file`. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: file });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED" || err.code === "ENOENT") resolve(false);
      // Its backlog is full, or it accepted and hung up first (the holder
      // destroys every connection; under load that can beat our "connect"): it lives.
      else if (err.code === "EAGAIN" || err.code === "ECONNRESET" || err.code === "EPIPE")
        resolve(true);
      else reject(err);
    });
  });
}

/**
 * Removes the dead socket `seen` from `file`, unless it was replaced since.
 * Removers take turns (a directory beside it), so none removes a socket that
 * another published between its check and its unlink.
 */
function reap(file: string, seen: Identity): void {
  const turn = `${file}.reaping`;
  try {
    fs.mkdirSync(turn);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const stat = fs.statSync(turn, { throwIfNoEntry: false });
    if (stat && Math.abs(Date.now() - stat.mtimeMs) > REAPING_STALE_MS) {
      fs.rmSync(turn, { recursive: true, force: true });
    }
    return;
  }
  try {
    if (same(identity(file), seen)) fs.rmSync(file, { force: true });
  } finally {
    fs.rmdirSync(turn);
  }
}

/** Which file is at a path: an inode made later differs in number or change time. */
interface Identity {
  dev: bigint;
  ino: bigint;
  ctimeNs: bigint;
}

function identity(file: string): Identity | undefined {
  const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return stat && { dev: stat.dev, ino: stat.ino, ctimeNs: stat.ctimeNs };
}

function same(a: Identity | undefined, b: Identity): boolean {
  return a !== undefined && a.dev === b.dev && a.ino === b.ino && a.ctimeNs === b.ctimeNs;
}
