// `conductor release apply|remove`: record which containers make up a
// service's current release on this host (the supervisor's desired state), and
// stop every other container of the service. Runs after nginx points at the
// release, so the containers it stops receive no new requests. Normally those
// are the ones Pulumi is about to delete anyway; it also catches containers a
// killed deploy started but never recorded in the Pulumi state.
import * as fs from "node:fs";
import * as docker from "./docker";
import { LABELS, serviceLock } from "./container";
import { withHostLock } from "./lock";
import { releaseFile, releasesDir } from "./paths";
import type { ServiceRequest, ReleaseRequest } from "../protocol/requests";
import { readRecords, removeRecord, writeFileAtomic } from "./records";

const DEFAULT_STOP_SECONDS = 30;

export async function releaseApply(
  req: ReleaseRequest,
  log: (line: string) => void,
): Promise<void> {
  fs.mkdirSync(releasesDir(), { recursive: true, mode: 0o700 });
  writeFileAtomic(releaseFile(req.serviceId), JSON.stringify(req, null, 2), 0o600);
  const keep = new Set(req.containers);
  const strays = (await docker.listContainers(`${LABELS.service}=${req.serviceId}`)).filter(
    (c) => !keep.has(c.name),
  );
  const stopSeconds = stopSecondsByName();
  await withHostLock(serviceLock(req.serviceId), () =>
    stopAll(strays, stopSeconds, req.serviceId, log),
  );
}

async function stopAll(
  strays: { name: string }[],
  stopSeconds: Map<string, number>,
  serviceId: string,
  log: (line: string) => void,
): Promise<void> {
  await Promise.all(
    strays.map(async (c) => {
      removeRecord(c.name);
      await docker.stopContainer(c.name, stopSeconds.get(c.name) ?? DEFAULT_STOP_SECONDS);
      await docker.removeContainer(c.name);
      log(`${c.name}: stopped and removed (not part of the release of ${serviceId})`);
    }),
  );
}

export async function releaseRemove(req: ServiceRequest): Promise<void> {
  fs.rmSync(releaseFile(req.serviceId), { force: true });
}

function stopSecondsByName(): Map<string, number> {
  return new Map(readRecords().map((r) => [r.name, Math.ceil(r.spec.stopTimeoutMs / 1000)]));
}
