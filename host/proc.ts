// What conductor reads of this host's processes, from /proc, and how it
// starts the background supervisor.
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export interface NginxWorkers {
  /** Workers serving, by pid. */
  running: number[];
  /** Workers of an older configuration still finishing their requests. */
  draining: number;
}

/**
 * This host's nginx workers, from one look at /proc (`procRoot` in tests).
 * Only those of our own pid namespace: /proc also lists the nginx of every
 * container on this kernel (an app image that runs nginx itself, a test
 * fleet's hosts), whose workers never change on our reload.
 */
export function nginxWorkers(procRoot = "/proc"): NginxWorkers {
  const workers: NginxWorkers = { running: [], draining: 0 };
  const isNginx = (argv: string[]) => argv.join(" ").startsWith("nginx: ");
  for (const { pid, argv } of ownProcesses(isNginx, procRoot)) {
    const title = argv.join(" ").trim();
    if (title === "nginx: worker process") workers.running.push(pid);
    else if (title.includes("is shutting down")) workers.draining++;
  }
  return workers;
}

/**
 * The processes of our own pid namespace whose argument vector `wanted` takes,
 * from one look at /proc. `wanted` is asked first: reading a process's
 * namespace costs a system call, and most processes are not wanted.
 */
export function* ownProcesses(
  wanted: (argv: string[]) => boolean,
  procRoot = "/proc",
): Generator<{ pid: number; argv: string[] }> {
  const ownNamespace = pidNamespace("self", procRoot);
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdline(Number(entry), procRoot);
    if (!argv || !wanted(argv)) continue; // gone while we looked, or not wanted
    if (pidNamespace(entry, procRoot) === ownNamespace) yield { pid: Number(entry), argv };
  }
}

/** A process's argument vector (nginx rewrites its own into one title); undefined when it is gone. */
export function cmdline(pid: number, procRoot = "/proc"): string[] | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`${procRoot}/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
  return raw.replace(/\0+$/, "").split("\0");
}

/** The pid namespace of a process (`self`: this one), as the kernel names it; undefined when it is gone. */
export function pidNamespace(pid: string, procRoot = "/proc"): string | undefined {
  try {
    return fs.readlinkSync(`${procRoot}/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Starts `conductor supervise` detached from this process, appending its output to `logFile`. */
export function spawnSupervisor(logFile: string): number | undefined {
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [process.argv[1], "supervise"], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  return child.pid;
}
