import { spawn } from "node:child_process";
import * as path from "node:path";
import { HOST_PATH } from "../protocol/rules";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Kills the program (SIGKILL) after this long; its result then says so on stderr. */
  timeoutMs?: number;
}

/** Runs a program with an argument vector (never through a shell) and collects its output. */
export function exec(file: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: "pipe" });
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
            // A child of its own (sh's) may keep the pipes open for long after.
            child.stdout.destroy();
            child.stderr.destroy();
          }, options.timeoutMs);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const why = timedOut
        ? `${file} did not finish within ${options.timeoutMs! / 1000} s; killed\n`
        : "";
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8") + why,
      });
    });
    // A program that exits without reading its input makes the write fail
    // with EPIPE (seen with `nginx -t`); its exit status tells what happened.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * The caller's PATH with the host's system directories it lacks appended, so
 * `nginx` (in /usr/sbin) is found from cron's /usr/bin:/bin too; the caller's
 * own directories keep their order and come first.
 */
export function withSystemDirs(current: string | undefined): string {
  const dirs = (current ?? "").split(path.delimiter).filter((dir) => dir !== "");
  const missing = HOST_PATH.split(path.delimiter).filter((dir) => !dirs.includes(dir));
  return [...dirs, ...missing].join(path.delimiter);
}
