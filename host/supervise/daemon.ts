// Running `conductor supervise` as a daemon on hosts without systemd: cron
// calls `supervise --background` every minute, which starts one unless one
// runs; a deploy that installs a new conductor calls `supervise --restart`.
// (With systemd, the unit does all of this: see provider/resources/agent.ts.)
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { sleep } from "../health";
import { supervisorPidFile } from "../paths";

export const SUPERVISE_LOG =
  process.env.CONDUCTOR_SUPERVISE_LOG ?? "/var/log/conductor-supervise.log";

export function runningSupervisor(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(supervisorPidFile(), "utf8").trim());
    process.kill(pid, 0); // throws when no such process
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts a detached `conductor supervise` writing to SUPERVISE_LOG, unless one runs. */
export function startInBackground(log: (line: string) => void): number {
  const running = runningSupervisor();
  if (running) return 0;
  const out = fs.openSync(SUPERVISE_LOG, "a");
  const child = spawn(process.execPath, [process.argv[1], "supervise"], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  log(`started in the background (pid ${child.pid}), logging to ${SUPERVISE_LOG}`);
  return 0;
}

/** Stops the running supervisor (it finishes its pass) and starts a new one. */
export async function restartInBackground(log: (line: string) => void): Promise<number> {
  const pid = runningSupervisor();
  if (pid) {
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 600 && runningSupervisor() === pid; i++) await sleep(50);
  }
  return startInBackground(log);
}
