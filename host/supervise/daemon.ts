// Running `conductor supervise` as a daemon on hosts without systemd: cron
// calls `supervise --background` every minute, which starts one unless one
// runs; a deploy that installs a new conductor calls `supervise --restart`.
// (With systemd, the unit does all of this: see provider/resources/agent.ts.)
import * as path from "node:path";
import { type HostEffects, hostEffects, type Log, type Processes } from "../effects";

export const SUPERVISE_LOG =
  process.env.CONDUCTOR_SUPERVISE_LOG ?? "/var/log/conductor-supervise.log";

export type DaemonEffects = Pick<HostEffects, "store" | "processes" | "clock">;

/**
 * The pid of the running supervisor, from its pid file; undefined when none
 * runs. The file outlives its process (a kill -9, a reboot), and after a
 * reboot its pid may be another program's: only a live `conductor
 * supervise` counts.
 */
export function runningSupervisor(fx: DaemonEffects = hostEffects()): number | undefined {
  const pid = fx.store.readSupervisorPid();
  if (pid.status !== "ok") return undefined;
  return isSupervisor(pid.value, fx.processes) ? pid.value : undefined;
}

function isSupervisor(pid: number, processes: Processes): boolean {
  if (pid === processes.pid || !exists(pid, processes)) return false;
  const argv = processes.cmdline(pid);
  return argv !== undefined && isSuperviseCommand(argv, processes.script);
}

/** kill(pid, 0) fails with EPERM for a process that exists but is not ours to signal. */
function exists(pid: number, processes: Processes): boolean {
  try {
    processes.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `node /usr/local/bin/conductor supervise` (how cron's watchdog, the
 * systemd unit and --restart start it), not the watchdog itself
 * (`supervise --background`) or a --restart.
 */
export function isSuperviseCommand(argv: string[], ownScript: string): boolean {
  const i = argv.indexOf("supervise");
  if (i < 1) return false;
  const script = argv[i - 1];
  const conductor = script === ownScript || path.basename(script).startsWith("conductor");
  return conductor && !argv.slice(i + 1).some((a) => a === "--background" || a === "--restart");
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
