// `conductor predeploy run`: the service's predeploy command (migrations) in a
// throwaway container of the new revision, with the service's env through the
// Docker API (never a command line) and its runtime (volumes, user, ...), killed
// at the timeout and removed afterwards (README: "Migrations (predeploy)").
import type { PredeployRequest } from "../protocol/requests";
import { runtimeOptions } from "./container";
import { type HostEffects, hostEffects, type Log } from "./effects";
import { LABELS } from "./store";

export type PredeployEffects = Pick<HostEffects, "docker" | "random" | "clock">;

/** How much of its output the deploy shows: enough for a migration's error and its backtrace head. */
export const OUTPUT_LINES = 40;

export async function predeployRun(
  req: PredeployRequest,
  log: Log,
  fx: PredeployEffects = hostEffects(),
): Promise<{ output: string }> {
  const name = `${req.serviceId}-predeploy-${fx.random.hex(4)}`;
  const what = `predeploy \`${req.command.join(" ")}\` of ${req.serviceId} at revision ${req.revision}`;
  await fx.docker.createContainer({
    name,
    image: `${req.image}:${req.revision}`,
    command: req.command,
    env: req.env,
    labels: { ...req.labels, [LABELS.run]: `${req.serviceId}-predeploy` },
    stopTimeoutSeconds: 10,
    ...runtimeOptions(req),
  });
  try {
    const code = await runToEnd(name, req.timeoutMs, fx);
    const output = await lastLines(name, fx);
    if (code === "timeout")
      throw new Error(
        `${what} did not finish within ${req.timeoutMs} ms and was killed${shown(output)}`,
      );
    if (code !== 0) throw new Error(`${what} exited with ${code}${shown(output)}`);
    log(`${what} succeeded`);
    return { output };
  } finally {
    await fx.docker.removeContainer(name);
  }
}

/** Its exit code, or "timeout" once it ran `timeoutMs` (then it is killed). */
async function runToEnd(
  name: string,
  timeoutMs: number,
  fx: PredeployEffects,
): Promise<number | "timeout"> {
  const exit = fx.docker.waitContainer(name, "next-exit");
  // Removing the container ends the wait with an error nobody awaits any more.
  exit.catch(() => undefined);
  await fx.docker.startContainer(name);
  const timedOut = fx.clock.sleep(timeoutMs).then(() => "timeout" as const);
  const code = await Promise.race([exit, timedOut]);
  if (code === "timeout") await fx.docker.killContainer(name, "SIGKILL");
  return code;
}

/** The last OUTPUT_LINES lines it wrote: stdout, then stderr (Docker keeps them apart). */
async function lastLines(name: string, fx: PredeployEffects): Promise<string> {
  const [stdout, stderr] = await Promise.all([
    fx.docker.containerOutput(name, "stdout"),
    fx.docker.containerOutput(name, "stderr"),
  ]);
  const lines = [stdout, stderr].flatMap((s) => (s.trimEnd() ? s.trimEnd().split("\n") : []));
  return lines.slice(-OUTPUT_LINES).join("\n");
}

/** The service is untouched: Pulumi runs nothing that depends on the predeploy. */
function shown(output: string): string {
  const untouched = "; nothing of the service changed, its old containers keep serving";
  return output
    ? `${untouched}. Its last lines:\n${output}`
    : `${untouched}, and it printed nothing`;
}
