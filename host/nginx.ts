// `conductor nginx apply|remove`: install a service's nginx file, check the
// whole configuration, reload, and wait for the old workers to finish.
import { type HostEffects, hostEffects, type Log } from "./effects";
import { LOCKS } from "./store";
import type { NginxApplyRequest, ServiceRequest } from "../protocol/requests";

const DRAIN_TIMEOUT_MS = 60_000;

export type NginxEffects = Pick<
  HostEffects,
  "nginxConfDir" | "exec" | "locks" | "clock" | "nginxWorkers"
>;

export const confName = (serviceId: string) => `conductor-${serviceId}.conf`;

export async function nginxApply(
  req: NginxApplyRequest,
  log: Log,
  fx: NginxEffects = hostEffects(),
): Promise<void> {
  const name = confName(req.serviceId);
  const path = fx.nginxConfDir.path(name);
  await fx.locks.hold(LOCKS.nginx, async () => {
    // No shortcut when the file already has this content: a deploy killed
    // between writing and reloading leaves exactly that, and must reload.
    const previous = fx.nginxConfDir.read(name);
    fx.nginxConfDir.write(name, req.config);
    const check = await fx.exec("nginx", ["-t"]);
    if (check.code !== 0) {
      if (previous === undefined) fx.nginxConfDir.remove(name);
      else fx.nginxConfDir.write(name, previous);
      throw new Error(
        `nginx -t rejected ${path}; the previous file is back in place:\n${check.stderr.trim()}`,
      );
    }
    await reloadAndDrain(log, fx);
    log(`${path}: installed, nginx reloaded`);
  });
}

export async function nginxRemove(
  req: ServiceRequest,
  log: Log,
  fx: NginxEffects = hostEffects(),
): Promise<void> {
  const name = confName(req.serviceId);
  await fx.locks.hold(LOCKS.nginx, async () => {
    if (!fx.nginxConfDir.remove(name)) return;
    await reloadAndDrain(log, fx);
    log(`${fx.nginxConfDir.path(name)}: removed, nginx reloaded`);
  });
}

/**
 * `nginx -s reload` only signals the master: workers of the old configuration
 * keep serving the requests they accepted, with the old upstreams, until those
 * finish. Stopping old containers before they are gone drops requests
 * (measured: 1 in 5 swaps), so wait for them.
 */
async function reloadAndDrain(log: Log, fx: NginxEffects): Promise<void> {
  const before = new Set(fx.nginxWorkers().running);
  await execOk(fx, "nginx", ["-s", "reload"]);
  const deadline = fx.clock.now() + DRAIN_TIMEOUT_MS;
  while (fx.clock.now() < deadline) {
    const { running, draining } = fx.nginxWorkers();
    const allNew = running.length > 0 && running.every((pid) => !before.has(pid));
    if (allNew && draining === 0) return;
    await fx.clock.sleep(50);
  }
  log(`nginx: old workers still draining after ${DRAIN_TIMEOUT_MS / 1000}s, going on`);
}

/** Like exec, but a non-zero exit is an error carrying the program's stderr. */
async function execOk(fx: Pick<HostEffects, "exec">, file: string, args: string[]) {
  const result = await fx.exec(file, args);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim();
    throw new Error(`${file} ${args[0] ?? ""} failed (exit ${result.code}): ${detail}`);
  }
  return result.stdout;
}
