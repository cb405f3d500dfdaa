// `conductor cron install|remove`: /etc/cron.d/conductor-<id>, from the app's
// generate-cron run in the new revision (README: "Recurring tasks"). Written
// atomically (files.ts: under a name cron ignores, then renamed), so cron
// never reads half a file; an invalid crontab fails the deploy and leaves the
// old file in place.
import { cronFileName, formatProblems, wrapCrontab } from "./crontab";
import { type HostEffects, hostEffects, type Log } from "./effects";
import type { AnswerOf, CronInstallRequest, ServiceRequest } from "../protocol/requests";
import { sha256 } from "./read";
import { runCaptured } from "./run";

export type CronEffects = Pick<HostEffects, "docker" | "random" | "cronDir">;

export async function cronInstall(
  req: CronInstallRequest,
  log: Log,
  fx: CronEffects = hostEffects(),
): Promise<AnswerOf<"cron install">> {
  const name = cronFileName(req.serviceId);
  const path = fx.cronDir.path(name);
  const image = `${req.image}:${req.revision}`;
  const label = `${req.serviceId}-generate-cron`;
  const crontab = await runCaptured(image, req.generate, req.env, label, fx);
  const result = wrapCrontab(crontab, {
    serviceId: req.serviceId,
    revision: req.revision,
    allowOverlap: req.allowOverlap,
  });
  if (!result.ok) {
    throw new Error(
      `${req.generate.join(" ")} printed an invalid crontab; ${path} is unchanged:\n${formatProblems(result.problems)}`,
    );
  }
  fx.cronDir.write(name, result.file);
  log(`${path}: ${result.jobs.length} job(s) at revision ${req.revision}`);
  // The hash of what was written, which the deploy keeps for refresh to
  // compare with `cron read`'s: the deploy never has the file itself.
  return { jobs: result.jobs.length, sha256: sha256(result.file) };
}

export async function cronRemove(
  req: ServiceRequest,
  log: Log,
  fx: Pick<HostEffects, "cronDir"> = hostEffects(),
): Promise<void> {
  const name = cronFileName(req.serviceId);
  if (fx.cronDir.remove(name)) log(`${fx.cronDir.path(name)}: removed`);
}
