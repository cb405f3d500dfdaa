// Running `conductor supervise` as a daemon on hosts without systemd: cron
// calls `supervise --background` every minute, which starts one unless one
// runs; a deploy that installs a new conductor calls `supervise --restart`.
// (With systemd, the unit does all of this: see provider/resources/agent.ts.)
import { type HostEffects, hostEffects, type Log } from "../effects";

export const SUPERVISE_LOG =
  process.env.CONDUCTOR_SUPERVISE_LOG ?? "/var/log/conductor-supervise.log";

export type DaemonEffects = Pick<HostEffects, "store" | "processes" | "clock">;

/** The pid of the running supervisor, from its pid file; undefined when none runs. */
export function runningSupervisor(fx: DaemonEffects = hostEffects()): number | undefined {
  const pid = fx.store.readSupervisorPid();
  if (pid.status !== "ok") return undefined;
  try {
    fx.processes.kill(pid.value, 0); // throws when no such process
    return pid.value;
  } catch {
    return undefined;
  }
}

/** Starts a detached `conductor supervise` writing to SUPERVISE_LOG, unless one runs. */
export function startInBackground(log: Log, fx: DaemonEffects = hostEffects()): number {
  if (runningSupervisor(fx)) return 0;
  const pid = fx.processes.spawnSupervisor(SUPERVISE_LOG);
  log(`started in the background (pid ${pid}), logging to ${SUPERVISE_LOG}`);
  return 0;
}

/** Stops the running supervisor (it finishes its pass) and starts a new one. */
export async function restartInBackground(
  log: Log,
  fx: DaemonEffects = hostEffects(),
): Promise<number> {
  const pid = runningSupervisor(fx);
  if (pid) {
    fx.processes.kill(pid, "SIGTERM");
    for (let i = 0; i < 600 && runningSupervisor(fx) === pid; i++) await fx.clock.sleep(50);
  }
  return startInBackground(log, fx);
}
