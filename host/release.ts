// `conductor release apply|remove`: record which containers make up a
// service's current release on this host (the supervisor's desired state), and
// stop every other container of the service. Runs after nginx points at the
// release, so the containers it stops receive no new requests. Normally those
// are the ones Pulumi is about to delete anyway; it also catches containers a
// killed deploy started but never recorded in the Pulumi state.
import type { ListedContainer } from "./docker";
import { type HostEffects, hostEffects, type Log } from "./effects";
import { confName } from "./nginx";
import { routedPorts } from "./nginx-holds";
import { LABELS, LOCKS, type ReleaseRecord } from "./store";
import type { ReleaseRequest, ServiceRequest } from "../protocol/requests";

const DEFAULT_STOP_SECONDS = 30;

export type ReleaseEffects = Pick<HostEffects, "docker" | "store" | "locks" | "nginxConfDir">;

/** The release as the host keeps it: the request's fields, in the order earlier versions wrote them. */
export function releaseRecordOf(req: ReleaseRequest): ReleaseRecord {
  return {
    serviceId: req.serviceId,
    image: req.image,
    revision: req.revision,
    command: req.command,
    env: req.env,
    containers: req.containers,
    supervise: req.supervise,
    ...(req.volumes && { volumes: req.volumes }),
    ...(req.resources && { resources: req.resources }),
    ...(req.user !== undefined && { user: req.user }),
    ...(req.stopSignal !== undefined && { stopSignal: req.stopSignal }),
    ...(req.labels && { labels: req.labels }),
  };
}

/** Stops every other container of the service, or throws: the provider then skips their deletes. */
export async function releaseApply(
  req: ReleaseRequest,
  log: Log,
  fx: ReleaseEffects = hostEffects(),
): Promise<void> {
  const keep = new Set(req.containers);
  const strays = (await fx.docker.listContainers(`${LABELS.service}=${req.serviceId}`)).filter(
    (c) => !keep.has(c.name),
  );
  refuseToStopRouted(req.serviceId, strays, fx);
  fx.store.writeRelease(releaseRecordOf(req));
  await fx.locks.hold(LOCKS.service(req.serviceId), () =>
    Promise.all(strays.map((c) => stopStray(c.name, req.serviceId, log, fx))),
  );
}

/**
 * The last check before stopping anything: nginx on this host must not send
 * the service's requests to a container this release stops. It does when the
 * nginx file is not what the deploy's state says, e.g. a deploy killed after
 * nginx switched to its new containers, then an `up` of the old config
 * (README, "Recover an interrupted deploy"): Pulumi sees no nginx change, and
 * stopping the new containers would take the service down. Nothing is
 * written or stopped then; a refresh reads the real file and rewrites it.
 */
function refuseToStopRouted(serviceId: string, strays: ListedContainer[], fx: ReleaseEffects) {
  const routed = routedPorts(fx.nginxConfDir.read(confName(serviceId)) ?? "");
  const wouldStop = strays.filter((c) => routed.has(Number(c.labels[LABELS.port])));
  if (wouldStop.length === 0) return;
  const names = wouldStop.map((c) => `${c.name} (127.0.0.1:${c.labels[LABELS.port]})`);
  throw new Error(
    `nginx on this host still sends ${serviceId} to ${names.join(", ")}, which this release would stop: ` +
      `${fx.nginxConfDir.path(confName(serviceId))} is not the file this deploy's state says ` +
      "(a deploy killed after it switched nginx?). Nothing was stopped. " +
      "Run `pulumi up --refresh` to read the real file and rewrite it.",
  );
}

/** Record first, as in `container down`: the supervisor must not bring it back. */
async function stopStray(name: string, serviceId: string, log: Log, fx: ReleaseEffects) {
  const seconds = stopSeconds(name, log, fx);
  fx.store.removeContainer(name);
  await fx.docker.stopContainer(name, seconds);
  await fx.docker.removeContainer(name);
  log(`${name}: stopped and removed (not part of the release of ${serviceId})`);
}

/** The container's own stop timeout, from its record; a container the deploy never recorded gets 30 s. */
function stopSeconds(name: string, log: Log, fx: ReleaseEffects): number {
  const record = fx.store.readContainer(name);
  if (record.status === "ok") return Math.ceil(record.value.spec.stopTimeoutMs / 1000);
  if (record.status !== "missing") {
    log(`${name}: ${record.message}; stopping it with the default ${DEFAULT_STOP_SECONDS}s`);
  }
  return DEFAULT_STOP_SECONDS;
}

export async function releaseRemove(
  req: ServiceRequest,
  _log?: Log,
  fx: Pick<HostEffects, "store"> = hostEffects(),
): Promise<void> {
  fx.store.removeRelease(req.serviceId);
}
