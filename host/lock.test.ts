// The host's locks, for real in temp dirs: who excludes whom, that a killed
// holder's lock is free at once, and that a waiting hold gives up by name.
// Not proven here: the race of two processes removing the same dead socket
// (reap's turns), which needs a scheduler to interleave them.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fakeHost } from "./fakes.testutil";
import { socketLocks, socketPath } from "./lock";
import { LOCKS } from "./store";
import { supervise } from "./supervise/loop";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-locks-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ran = () => Promise.resolve("ran");

/** A promise and the function that settles it: a holder that runs until told. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Another conductor process holding lock `name` of `locksDir` through this
 * module, until it is killed; resolves once it holds the lock.
 */
async function holderProcess(locksDir: string, name: string): Promise<ChildProcess> {
  const script = `require(${JSON.stringify(path.join(__dirname, "lock"))})
    .socketLocks(process.argv[1])
    .tryHold(process.argv[2], () => { console.log("held"); return new Promise(() => setInterval(() => {}, 1000)); })
    .then((r) => { if (r === undefined) { console.log("busy"); process.exit(3); } });`;
  const child = spawn(process.execPath, ["-r", "esbuild-register", "-e", script, locksDir, name], {
    cwd: path.join(__dirname, ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const first = await new Promise<string>((resolve) =>
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  expect(first).toBe("held");
  return child;
}

async function killHard(child: ChildProcess) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

describe("socketLocks", () => {
  it("runs while the lock is free and leaves no file behind", async () => {
    const locks = socketLocks(dir);
    expect(await locks.tryHold("supervisor", ran)).toBe("ran");
    expect(await locks.hold("ports", ran)).toBe("ran");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("makes two holders in one process wait for each other", async () => {
    const locks = socketLocks(dir);
    const order: string[] = [];
    await Promise.all(
      ["a", "b", "c"].map((who) =>
        locks.hold("ports", async () => {
          order.push(`${who} in`);
          await tick(30);
          order.push(`${who} out`);
        }),
      ),
    );
    // Waiters poll, so in no fixed order; but never two inside at once.
    expect(order).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) expect(order[i + 1]).toBe(order[i].replace("in", "out"));
  });

  it("tryHold gives up while another holds the lock, and runs once it is released", async () => {
    const locks = socketLocks(dir);
    const { open, opened } = gate();
    const first = locks.tryHold("supervisor", () => opened.then(() => "first"));
    await tick(20);
    expect(await locks.tryHold("supervisor", ran)).toBeUndefined();
    expect(await locks.tryHold("nginx", ran)).toBe("ran"); // another name is another lock
    open();
    expect(await first).toBe("first");
    expect(await locks.tryHold("supervisor", ran)).toBe("ran");
  });

  it("hold waits for the holder to release, then runs", async () => {
    const locks = socketLocks(dir);
    const { open, opened } = gate();
    const first = locks.hold("service-web", () => opened);
    await tick(20);
    let done = false;
    const second = locks.hold("service-web", ran).then((r) => ((done = true), r));
    await tick(300); // three polls or more
    expect(done).toBe(false);
    open();
    await first;
    expect(await second).toBe("ran");
  });

  it("hold gives up after its timeout, naming the lock", async () => {
    const { open, opened } = gate();
    const first = socketLocks(dir).tryHold("nginx", () => opened);
    await tick(20);
    const started = Date.now();
    await expect(socketLocks(dir, { holdTimeoutMs: 300 }).hold("nginx", ran)).rejects.toThrow(
      `lock nginx: another process still holds it after 0.3 s (${socketPath(dir, "nginx")})`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    open();
    await first;
  });

  it("keeps the locks of different store directories apart", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-locks-"));
    try {
      const { open, opened } = gate();
      const first = socketLocks(dir).tryHold("supervisor", () => opened);
      await tick(20);
      expect(await socketLocks(other).tryHold("supervisor", ran)).toBe("ran");
      open();
      await first;
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it("is free at once when another process holding it is killed with SIGKILL", async () => {
    const child = await holderProcess(dir, "supervisor");
    try {
      expect(await socketLocks(dir).tryHold("supervisor", ran)).toBeUndefined();
    } finally {
      await killHard(child);
    }
    // The killed process's socket is still there, dead: the case mtime locks kept for a minute.
    expect(fs.readdirSync(dir)).toEqual(["supervisor.sock"]);
    expect(await socketLocks(dir).tryHold("supervisor", ran)).toBe("ran");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("does not keep its holder's process alive on its own", async () => {
    const child = spawn(
      process.execPath,
      [
        "-r",
        "esbuild-register",
        "-e",
        `require(${JSON.stringify(path.join(__dirname, "lock"))}).socketLocks(process.argv[1]).tryHold("x", () => new Promise(() => {}))`,
        dir,
      ],
      { cwd: path.join(__dirname, ".."), stdio: "inherit" },
    );
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      new Promise((r) => child.once("exit", r)),
      new Promise((r) => (timer = setTimeout(r, 4_000, "still running"))),
    ]);
    clearTimeout(timer);
    if (code === "still running") await killHard(child);
    expect(code).toBe(0);
  });

  it("names a lock too long for a socket path by its hash", async () => {
    const name = LOCKS.run("a".repeat(120), ["rake", "jobs"]);
    const file = socketPath(dir, name);
    expect(path.dirname(file)).toBe(dir);
    expect(path.basename(file)).toMatch(/^[0-9a-f]{32}\.sock$/);
    expect(socketPath(dir, "supervisor")).toBe(path.join(dir, "supervisor.sock"));
    expect(await socketLocks(dir).tryHold(name, ran)).toBe("ran");
    expect(() => socketPath(path.join(dir, "d".repeat(100)), "x")).toThrow(
      "too long a path for lock sockets (at most 107 bytes)",
    );
  });
});

describe("conductor supervise after its predecessor was killed", () => {
  it("supervises at once, not a minute later", async () => {
    const host = fakeHost();
    try {
      const locksDir = host.store.locksDir;
      host.fx.locks = socketLocks(locksDir);
      const predecessor = await holderProcess(locksDir, LOCKS.supervisor);
      expect(await supervise(true, host.logLine, host.fx)).toBe(1); // while it lives
      await killHard(predecessor);

      expect(await supervise(true, host.logLine, host.fx)).toBe(0);
      expect(host.log).toEqual([
        "another conductor supervise runs on this host; leaving it to that one",
        "supervising (pid 4242)",
      ]);
    } finally {
      host.cleanup();
    }
  });
});
