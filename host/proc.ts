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

/** nginx's workers, from one look at /proc. */
export function nginxWorkers(): NginxWorkers {
  const workers: NginxWorkers = { running: [], draining: 0 };
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdline(Number(entry));
    if (!argv) continue; // exited while we looked
    const title = argv.join(" ").trim();
    if (title === "nginx: worker process") workers.running.push(Number(entry));
    else if (title.startsWith("nginx: ") && title.includes("is shutting down")) workers.draining++;
  }
  return workers;
}

/** A process's argument vector (nginx rewrites its own into one title); undefined when it is gone. */
export function cmdline(pid: number): string[] | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
  return raw.replace(/\0+$/, "").split("\0");
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
