// Runs the `conductor` host command on a host: directly for the local host,
// through the OpenSSH client for the others. Requests travel on stdin, so no
// value from config is ever part of a command line.
import { type ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection } from "../protocol/connection";
import { shellJoin } from "../protocol/quote";
import {
  type AnswerOf,
  argvOf,
  checkAnswer,
  type HostCommand,
  isHostCommand,
  type RequestOf,
} from "../protocol/requests";
import { CONDUCTOR_BIN } from "../protocol/rules";
import { HostSession } from "./session";

export class HostCommandError extends Error {}

/**
 * The program and arguments that run `argv` on the host: `argv` itself on the
 * local host, else ssh (with a terminal when `tty`).
 */
export function hostCommand(
  conn: Connection,
  argv: string[],
  options: { tty?: boolean } = {},
): [string, string[]] {
  if (conn.local) return [argv[0], argv.slice(1)];
  return ["ssh", [...(options.tty ? ["-t"] : []), ...sshArgs(conn, argv)]];
}

export async function runOnHost(conn: Connection, argv: string[], input: string): Promise<string> {
  if (!conn.local) await sharedConnection(conn);
  const [file, args] = hostCommand(conn, argv);
  const { code, stdout, stderr } = await execute(conn, file, args, input);
  if (code !== 0)
    throw new HostCommandError(`host ${conn.host}: ${describeFailure(conn, code, stderr)}`);
  return stdout;
}

/**
 * Like runOnHost, but the host command's requests go through one
 * `conductor serve` per host, started at the first (session.ts): the
 * provider's way. Any other command (the Agent's scripts, one of which
 * replaces the conductor binary) first ends the host's server, and ends any
 * started meanwhile once it is done, so the next request starts the new one.
 */
export const runThroughSessions: RunOnHost = sessionTransport(startServe, runOnHost);

/**
 * Readies the host for `conductor serve` (its ssh master), then gives what
 * starts the server's process. The session takes the process in the same
 * tick as it is spawned: a spawn that fails (no conductor on a local host)
 * emits its 'error' at once, and with no listener yet Node throws it, which
 * left every request of that host waiting for good (seen in a refresh with
 * /usr/local/bin/conductor removed).
 */
export type StartServe = (conn: Connection) => Promise<() => ChildProcess>;

async function startServe(conn: Connection): Promise<() => ChildProcess> {
  if (!conn.local) await sharedConnection(conn);
  const [file, args] = hostCommand(conn, [CONDUCTOR_BIN, "serve"]);
  // process.env as this module sees it: jest gives each test file a copy of its own.
  return () => spawn(file, args, { stdio: "pipe", env: process.env });
}

/**
 * runThroughSessions with its parts given: how a host's server starts, how a
 * command runs as a process of its own, how long an idle server lives.
 */
export function sessionTransport(start: StartServe, runOne: RunOnHost, idleMs?: number): RunOnHost {
  /** The `conductor serve` of each host, by how it is reached: its start (an ssh master first), then itself. */
  const sessions = new Map<string, { started: Promise<HostSession>; session?: HostSession }>();
  /**
   * Hosts whose conductor has no `serve`: their requests go to a process each
   * at once, not to a doomed start first, until an Agent's script (which may
   * install a newer conductor) ends the host's session.
   */
  const unsupported = new Set<string>();

  /** The host's server, started unless one is starting or alive; requests that come meanwhile share the start. */
  function sessionOf(conn: Connection): Promise<HostSession> {
    const key = sessionKey(conn);
    const current = sessions.get(key);
    if (current && (!current.session || current.session.alive)) return current.started;
    const entry: { started: Promise<HostSession>; session?: HostSession } = {
      started: start(conn).then(
        (spawnServer) =>
          new HostSession(spawnServer(), {
            ms: idleMs,
            // Out of the map first: no request may be written to a server whose input closes.
            onIdle: () => sessions.get(key) === entry && sessions.delete(key),
          }),
      ),
    };
    entry.started.then(
      (s) => (entry.session = s),
      () => sessions.get(key) === entry && sessions.delete(key),
    );
    sessions.set(key, entry);
    return entry.started;
  }

  function endSession(conn: Connection): void {
    const key = sessionKey(conn);
    unsupported.delete(key);
    sessions.get(key)?.started.then(
      (s) => s.end(),
      () => undefined,
    );
    sessions.delete(key);
  }

  return async (conn, argv, input) => {
    if (argv[0] !== CONDUCTOR_BIN || !isHostCommand(argv.slice(1).join(" "))) {
      endSession(conn);
      try {
        return await runOne(conn, argv, input);
      } finally {
        endSession(conn);
      }
    }
    if (unsupported.has(sessionKey(conn))) return runOne(conn, argv, input);
    const session = await sessionOf(conn);
    const exit = await session.request(argv.slice(1), input);
    // A host whose conductor predates `serve`: a process per request, as before.
    if (exit === "unsupported") {
      unsupported.add(sessionKey(conn));
      return runOne(conn, argv, input);
    }
    if (exit.code !== 0)
      throw new HostCommandError(
        `host ${conn.host}: ${describeFailure(conn, exit.code, exit.stderr)}`,
      );
    return exit.stdout;
  };
}

const sessionKey = (conn: Connection) =>
  conn.local ? "local" : `${conn.user}@${conn.address}:${conn.port}`;

/** The check or start of each host's master connection under way, by user@address:port. */
const masters = new Map<string, Promise<void>>();

/**
 * Resolves once this process has a master connection to the host (ControlPath),
 * starting it if need be, so that commands started together share it: each
 * would otherwise try to become the master, all but one failing to ("ControlSocket
 * ... already exists, disabling multiplexing") and connecting on its own.
 * Calls while a check or start is under way wait for that one.
 */
function sharedConnection(conn: Connection): Promise<void> {
  // ssh-%C in ControlPath hashes the same three.
  const key = `${conn.user}@${conn.address}:${conn.port}`;
  let ready = masters.get(key);
  if (!ready) {
    ready = startMaster(conn).finally(() => masters.delete(key));
    masters.set(key, ready);
  }
  return ready;
}

/**
 * A master lasts ControlPersist seconds after its last command, so each command
 * checks for it (`-O check` asks the socket, no network). Without one, ssh runs
 * `true` like any command: it becomes the master (ControlMaster=auto), leaves it
 * in the background and exits, and it exits as well should it find or lose to
 * another master, where `ssh -MNf` would stay connected with nothing to do.
 */
async function startMaster(conn: Connection): Promise<void> {
  const check = await execute(
    conn,
    "ssh",
    [...sshOptions(conn), "-O", "check", "--", conn.address],
    "",
  );
  if (check.code === 0) return;
  const { code, stderr } = await execute(conn, "ssh", sshArgs(conn, ["true"]), "");
  if (code !== 0)
    throw new HostCommandError(`host ${conn.host}: ${describeFailure(conn, code, stderr)}`);
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function execute(conn: Connection, file: string, args: string[], input: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // process.env as this module sees it: jest gives each test file a copy of its own.
    const child = spawn(file, args, { stdio: "pipe", env: process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) =>
      reject(new HostCommandError(`host ${conn.host}: cannot run ${file}: ${e.message}`)),
    );
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    child.stdin.on("error", () => undefined); // the command may exit before reading all input
    child.stdin.end(input);
  });
}

/** Runs `argv` on the host with `input` on stdin; resolves to its stdout. */
export type RunOnHost = (conn: Connection, argv: string[], input: string) => Promise<string>;

/**
 * Runs a subcommand of the host command with its request and checks its
 * answer (the last line of stdout) against the protocol: an older or broken
 * host command fails here, naming the command, not later with `undefined`.
 */
export async function conductor<C extends HostCommand>(
  conn: Connection,
  command: C,
  request: RequestOf<C>,
  run: RunOnHost = runOnHost,
): Promise<AnswerOf<C>> {
  const stdout = await run(conn, [CONDUCTOR_BIN, ...argvOf(command)], JSON.stringify(request));
  const last = stdout.trim().split("\n").pop() ?? "";
  let answer: unknown;
  try {
    answer = JSON.parse(last);
  } catch {
    throw new HostCommandError(
      `host ${conn.host}: conductor ${command} answered ${last ? "something that is not JSON" : "nothing"}`,
    );
  }
  try {
    return checkAnswer(command, answer);
  } catch (err) {
    throw new HostCommandError(`host ${conn.host}: ${(err as Error).message}`);
  }
}

/**
 * Why a command on the host failed, from its exit code and stderr: the error
 * first, as Pulumi's one-line summary shows only that, then the lines before it.
 */
export function describeFailure(conn: Connection, code: number | null, stderr: string): string {
  const lines = stderrLines(conn, stderr);
  if (!conn.local && code === 255) return sshFailure(conn, lines);
  // The host command writes its error last, as `conductor: <message>` (host/main.ts), and
  // a message of several lines goes on unprefixed. Without one, no line is known as the error.
  const start = lines.reduce((last, l, i) => (l.startsWith(PREFIX) ? i : last), -1);
  const text = lines.map(unprefixed);
  if (start === -1) return text.join("\n") || `exit code ${code}`;
  return text.slice(start).join("\n") + logOf(conn, text.slice(0, start));
}

/** ssh exits 255 for its own errors (unreachable host, refused key), its message last. */
function sshFailure(conn: Connection, lines: string[]): string {
  const target = `${conn.user}@${conn.address}:${conn.port}`;
  const last = lines.at(-1);
  // Nor does ssh say anything when the master of a shared connection goes away (mux.c,
  // mux_client_request_session) or the remote command dies of a signal (clientloop.c).
  if (last === undefined || last.startsWith(PREFIX))
    return `ssh to ${target} ended with exit code 255 and no message of its own: the connection was lost or the host command killed${logOf(conn, lines.map(unprefixed))}`;
  return `cannot connect over SSH to ${target}: ${last}${logOf(conn, lines.slice(0, -1).map(unprefixed))}`;
}

const PREFIX = "conductor: ";

const unprefixed = (line: string) => (line.startsWith(PREFIX) ? line.slice(PREFIX.length) : line);

/**
 * OpenSSH's errors after which it runs the command over a connection of its own
 * (openssh-portable mux.c: muxserver_listen, muxclient, mux_client_request_session):
 * parallel commands racing to be a host's ControlMaster, not why a command failed.
 */
const SSH_MUX_NOISE = [
  /^ControlSocket .+ already exists, disabling multiplexing$/,
  /^Control socket connect\(.+\): .+$/,
  /^muxclient: master hello exchange failed$/,
  /^mux_client_hello_exchange: expected HELLO \(\d+\) got \d+$/,
  /^Unsupported multiplexing protocol version \d+ \(expected \d+\)$/,
  /^mux_client_request_session: master alive request failed$/,
  /^mux_client_request_session: read from master failed: .+$/,
  /^mux_client_request_session: session request failed: .+$/,
  /^mux_client_request_session: unexpected response from master 0x[0-9a-f]+$/,
  /^Master refused session request: .+$/,
];

/** The lines of stderr (ssh ends its own with \r\n), without ssh's mux noise. */
function stderrLines(conn: Connection, stderr: string): string[] {
  const lines = stderr.trim() ? stderr.trim().split(/\r?\n/) : [];
  return conn.local ? lines : lines.filter((l) => !SSH_MUX_NOISE.some((noise) => noise.test(l)));
}

/** The lines of stderr before the error, labelled as the host's, after a blank line. */
function logOf(conn: Connection, lines: string[]): string {
  return lines.length
    ? `\n\n--- log of host ${conn.host} before the error ---\n${lines.join("\n")}`
    : "";
}

export function sshArgs(conn: Connection, argv: string[]): string[] {
  return [...sshOptions(conn), "--", conn.address, shellJoin(argv)];
}

/** ssh's options for every connection to the host, up to its address. */
function sshOptions(conn: Connection): string[] {
  const args = [
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "StrictHostKeyChecking=accept-new",
    // One TCP connection per host for all of a deploy's commands.
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${privateDir()}/ssh-%C`,
    "-o",
    "ControlPersist=15",
    "-p",
    String(conn.port),
  ];
  if (conn.privateKey) args.push("-i", keyFile(conn.privateKey), "-o", "IdentitiesOnly=yes");
  args.push("-l", conn.user);
  return args;
}

let dir: string | undefined;

/** A root-only directory for this process's key files and SSH sockets, removed at exit. */
function privateDir(): string {
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-"));
    fs.chmodSync(dir, 0o700);
    const created = dir;
    process.on("exit", () => fs.rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** The key goes to a 0600 file: OpenSSH reads keys from files, never from argv. */
function keyFile(privateKey: string): string {
  const file = path.join(
    privateDir(),
    `key-${crypto.createHash("sha256").update(privateKey).digest("hex").slice(0, 12)}`,
  );
  if (!fs.existsSync(file))
    fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, {
      mode: 0o600,
    });
  return file;
}
