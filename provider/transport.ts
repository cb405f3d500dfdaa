// Runs the `conductor` host command on a host: directly for the local host,
// through the OpenSSH client for the others. Requests travel on stdin, so no
// value from config is ever part of a command line.
import { spawn } from "node:child_process";
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
  type RequestOf,
} from "../protocol/requests";
import { CONDUCTOR_BIN } from "../protocol/rules";

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

export function runOnHost(conn: Connection, argv: string[], input: string): Promise<string> {
  const [file, args] = hostCommand(conn, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) =>
      reject(new HostCommandError(`host ${conn.host}: cannot run ${file}: ${e.message}`)),
    );
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8").trim();
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      reject(new HostCommandError(`host ${conn.host}: ${describeFailure(conn, code, stderr)}`));
    });
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
  const lines = stderr.trim() ? stderr.trim().split(/\r?\n/) : [];
  const unprefixed = lines.map((l) => (l.startsWith(PREFIX) ? l.slice(PREFIX.length) : l));
  // ssh exits 255 for its own errors (unreachable host, refused key), its message last.
  if (!conn.local && code === 255) {
    const headline = unprefixed.pop() ?? `exit code ${code}`;
    return `cannot connect over SSH to ${conn.user}@${conn.address}:${conn.port}: ${headline}${logOf(conn, unprefixed)}`;
  }
  // The host command writes its error last, as `conductor: <message>` (host/main.ts), and
  // a message of several lines goes on unprefixed. Without one, no line is known as the error.
  const start = lines.reduce((last, l, i) => (l.startsWith(PREFIX) ? i : last), -1);
  if (start === -1) return unprefixed.join("\n") || `exit code ${code}`;
  return unprefixed.slice(start).join("\n") + logOf(conn, unprefixed.slice(0, start));
}

const PREFIX = "conductor: ";

/** The lines of stderr before the error, labelled as the host's, after a blank line. */
function logOf(conn: Connection, lines: string[]): string {
  return lines.length
    ? `\n\n--- log of host ${conn.host} before the error ---\n${lines.join("\n")}`
    : "";
}

export function sshArgs(conn: Connection, argv: string[]): string[] {
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
  args.push("-l", conn.user, "--", conn.address, shellJoin(argv));
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
