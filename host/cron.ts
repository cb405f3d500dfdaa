// `conductor cron install|remove`: /etc/cron.d/conductor-<id>, from the app's
// generate-cron run in the new revision (README: "Recurring tasks"). Written next to its
// final name under a name cron ignores (it has a dot), then renamed, so cron
// never reads half a file; an invalid crontab fails the deploy and leaves the
// old file in place.
import * as fs from "node:fs";
import { cronFileName, formatProblems, wrapCrontab } from "./crontab";
import { CRON_DIR } from "./paths";
import type { CronInstallRequest, ServiceRequest } from "../protocol/requests";
import { runCaptured } from "./run";

const cronPath = (serviceId: string) => `${CRON_DIR}/${cronFileName(serviceId)}`;

export async function cronInstall(
  req: CronInstallRequest,
  log: (line: string) => void,
): Promise<{ jobs: number }> {
  const image = `${req.image}:${req.revision}`;
  const crontab = await runCaptured(image, req.generate, req.env, `${req.serviceId}-generate-cron`);
  const result = wrapCrontab(crontab, {
    serviceId: req.serviceId,
    revision: req.revision,
    allowOverlap: req.allowOverlap,
  });
  if (!result.ok) {
    throw new Error(
      `${req.generate.join(" ")} printed an invalid crontab; ${cronPath(req.serviceId)} is unchanged:\n${formatProblems(result.problems)}`,
    );
  }
  const path = cronPath(req.serviceId);
  const tmp = `${CRON_DIR}/.${cronFileName(req.serviceId)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, result.file, { mode: 0o644 });
  fs.renameSync(tmp, path);
  log(`${path}: ${result.jobs.length} job(s) at revision ${req.revision}`);
  return { jobs: result.jobs.length };
}

export async function cronRemove(req: ServiceRequest, log: (line: string) => void): Promise<void> {
  const path = cronPath(req.serviceId);
  if (!fs.existsSync(path)) return;
  fs.rmSync(path);
  log(`${path}: removed`);
}
