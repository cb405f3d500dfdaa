// `conductor supervise [--once]`: keeps every deployed container of every
// supervised, unpaused service running and healthy, from the desired state the
// deploy left on the host (releases and container records). One pass at most
// every 5 seconds; the rules for one container are in decide.ts (README:
// "Supervision").
import { createAndStart, healthCheckOf, oomOf, type StartEffects } from "../container";
import type { DockerEvent } from "../docker";
import { type HostEffects, hostEffects, type Log } from "../effects";
import { StoreError } from "../files";
import {
  type ContainerRecord,
  type ContainerStatus,
  LABELS,
  LOCKS,
  type ReleaseRecord,
} from "../store";
import { type Action, decide, freshMemory, type Observed } from "./decide";
import { HOLDING_EVENTS, watchEvents } from "./events";
import { type HoldEffects, Holds } from "./holds";

export const PASS_INTERVAL_MS = 5_000;
/** The signal that makes a running supervisor pass at once (`conductor resume` sends it). */
export const WAKE_SIGNAL = "SIGUSR2";

export type { ContainerStatus } from "../store";

/** What the supervisor knows between passes; also written for `conductor status`. */
export type SupervisorMemory = Map<string, ContainerStatus>;

export type SuperviseEffects = StartEffects &
  HoldEffects &
  Pick<HostEffects, "store" | "probe" | "clock" | "processes">;

/** What the supervisor keeps between passes. */
export interface Supervisor {
  memory: SupervisorMemory;
  /** Replicas kept out of nginx until healthy (holds.ts). */
  holds: Holds;
  log: Log;
}

/**
 * Container name -> state, from one listing of conductor's containers at the
 * start of a pass: one Docker API call a pass instead of one per container
 * (the supervisor at rest with 20 containers: bench/supervise-bench.ts).
 */
type Listing = Map<string, string>;

/**
 * What Docker shows; a running container is probed only on a pass (`probe`).
 * A container the pass's listing shows running is taken as running (one that
 * died since is queued by its die event); any other is inspected now, for its
 * exit code and whether it is missing or being removed.
 */
async function observe(
  record: ContainerRecord,
  probe: boolean,
  listing: Listing | undefined,
  fx: SuperviseEffects,
): Promise<Observed> {
  if (listing?.get(record.name) === "running") return observeRunning(record, probe, fx);
  const state = await fx.docker.inspectContainer(record.name);
  if (!state) return { state: "missing" };
  if (state.status === "removing") return { state: "removing" };
  if (state.status !== "running") return { state: "stopped", oom: oomOf(state, record.spec) };
  return observeRunning(record, probe, fx);
}

async function observeRunning(
  record: ContainerRecord,
  probe: boolean,
  fx: SuperviseEffects,
): Promise<Observed> {
  const check = probe && healthCheckOf(record.spec, record.name, record.hostPort, fx);
  if (!check) return { state: "running", healthy: undefined };
  return { state: "running", healthy: (await check.probe()).healthy };
}

async function perform(action: Action, record: ContainerRecord, fx: SuperviseEffects) {
  switch (action.kind) {
    case "recreate":
      // Same name, port and spec: nginx already points at that port.
      await fx.docker.removeContainer(record.name);
      await createAndStart(record.spec, record.name, record.hostPort, fx);
      return;
    case "start":
      return fx.docker.startContainer(record.name);
    case "restart":
      return fx.docker.restartContainer(record.name, Math.ceil(record.spec.stopTimeoutMs / 1000));
    case "none":
    case "wait":
      return;
    default: {
      const never: never = action;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Why a container is looked at: on a pass, everything, health included; on
 * an event (or the end of its back-off), only whether it runs: health
 * failures are counted once a pass, and a running container is left to the
 * next pass to forgive.
 */
type Trigger = "pass" | "event";

/**
 * One container; the caller holds its service's lock, so it never races a
 * deploy that stops it. `docker`: what Docker's events said of it, when they
 * stop or start it (the replica is then held out of nginx).
 */
async function superviseContainer(
  serviceId: string,
  name: string,
  trigger: Trigger,
  listing: Listing | undefined,
  { memory, holds, log }: Supervisor,
  fx: SuperviseEffects,
  docker: DockerSaid = {},
): Promise<void> {
  // Read again under the lock: a deploy may have just taken it away.
  const read = fx.store.readContainer(name);
  if (read.status === "missing") return;
  if (read.status !== "ok") return log(`${serviceId} ${name}: not supervised: ${read.message}`);
  const record = read.value;
  const before = memory.get(name) ?? { serviceId, memory: freshMemory(), observed: "missing" };
  if (docker.event) {
    await holds.hold(serviceId, record, `Docker: ${docker.event}`, log);
    holds.stopping(serviceId, name, docker.stopping === true, docker.signal);
  }
  const observed = await observe(record, trigger === "pass", listing, fx);
  if (trigger === "event" && observed.state === "running") {
    memory.set(name, { ...before, observed: "running" });
    return;
  }
  const decision = decide(observed, before.memory, fx.clock.now());
  const status: ContainerStatus = {
    serviceId,
    memory: decision.memory,
    observed: observed.state === "removing" ? "stopped" : observed.state,
    healthy: observed.state === "running" ? observed.healthy : undefined,
    lastAction: before.lastAction,
  };
  memory.set(name, status);
  report(decision.action, before, status, name, log, fx);
  const action = decision.action;
  if (action.kind !== "none" && action.kind !== "wait") {
    await holds.hold(serviceId, record, `${action.kind}: ${action.reason}`, log);
  }
  try {
    await perform(action, record, fx);
  } catch (err) {
    log(`${serviceId} ${name}: ${action.kind} failed: ${(err as Error).message}`);
  }
}

function report(
  action: Action,
  before: ContainerStatus,
  after: ContainerStatus,
  name: string,
  log: Log,
  fx: Pick<HostEffects, "clock">,
) {
  if (action.kind === "none") return;
  const line =
    action.kind === "wait"
      ? `waiting until ${new Date(action.untilMs).toISOString()} (${action.reason})`
      : `${action.kind} (${action.reason}; attempt ${after.memory.attempts}, next no sooner than ${Math.round((after.memory.notBefore - fx.clock.now()) / 1000)}s from now)`;
  // A back-off is announced once, not every pass.
  if (action.kind === "wait" && before.lastAction === line) return;
  after.lastAction = line;
  log(`${after.serviceId} ${name}: ${line}`);
}

/**
 * A service's released containers, unless it is paused or not supervised,
 * under its lock (taken once for all of them: each take costs a socket).
 */
async function superviseService(
  release: ReleaseRecord,
  recorded: Set<string>,
  wanted: Set<string>,
  listing: Listing,
  supervisor: Supervisor,
  fx: SuperviseEffects,
) {
  if (!release.supervise || fx.store.isPaused(release.serviceId)) return;
  // Only containers the deploy finished (recorded) and released: never
  // one a deploy is still starting, or stopping.
  const names = release.containers.filter((n) => recorded.has(n));
  for (const name of names) wanted.add(name);
  if (names.length === 0) return;
  await fx.locks.hold(LOCKS.service(release.serviceId), async () => {
    for (const name of names)
      await superviseContainer(release.serviceId, name, "pass", listing, supervisor, fx);
  });
}

/**
 * One pass. A file of the store that cannot be read is reported on every
 * pass, naming it: what it describes is not supervised until it is mended,
 * and everything else still is.
 */
export async function superviseOnce(
  supervisor: Supervisor,
  fx: SuperviseEffects = hostEffects(),
): Promise<void> {
  const { memory, log } = supervisor;
  const records = fx.store.readContainers();
  const releases = fx.store.readReleases();
  for (const fault of [...releases.faults, ...records.faults]) {
    log(`${fault.name}: not supervised: ${fault.message}`);
  }
  const recorded = new Set(records.values.map((r) => r.name));
  const wanted = new Set<string>();
  const listing: Listing = new Map(
    (await fx.docker.listContainers(LABELS.service)).map((c) => [c.name, c.state]),
  );
  for (const release of releases.values) {
    try {
      await superviseService(release, recorded, wanted, listing, supervisor, fx);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      log(`${release.serviceId}: not supervised: ${err.message}`);
    }
  }
  for (const name of memory.keys()) if (!wanted.has(name)) memory.delete(name);
  if (releases.faults.length === 0) supervisor.holds.dropReplaced(releases.values, log);
  fx.store.writeSupervisorStatus({
    updatedAt: fx.clock.now(),
    containers: Object.fromEntries(memory),
  });
}

/**
 * One container at once, after a Docker event or at the end of its back-off:
 * only one of a supervised, unpaused service's released containers, like a
 * pass (decide.ts still keeps actions 5 s apart and backs off).
 */
export async function superviseContainerNow(
  serviceId: string,
  name: string,
  supervisor: Supervisor,
  fx: SuperviseEffects = hostEffects(),
  docker: DockerSaid = {},
): Promise<void> {
  const release = fx.store.readRelease(serviceId);
  if (release.status !== "ok" || !release.value.supervise) return;
  if (!release.value.containers.includes(name) || fx.store.isPaused(serviceId)) return;
  await fx.locks.hold(LOCKS.service(serviceId), () =>
    superviseContainer(serviceId, name, "event", undefined, supervisor, fx, docker),
  );
}

/** Containers that were down when last seen and whose back-off is over: checked again now. */
function dueContainers(memory: SupervisorMemory, now: number): [string, string][] {
  return [...memory]
    .filter(
      ([, s]) => s.observed !== "running" && s.memory.notBefore > 0 && s.memory.notBefore <= now,
    )
    .map(([name, s]) => [name, s.serviceId]);
}

/** What Docker's events said of a container since it was last checked. */
interface DockerSaid {
  /** The first event that stops or starts it (HOLDING_EVENTS), if one did. */
  event?: string;
  /** The last such event was a kill: it is stopping (or was only signalled), not stopped yet. */
  stopping?: boolean;
  /** That kill's signal, as Docker's event gives it ("15", "SIGHUP"): a SIGHUP stops nothing. */
  signal?: string;
}

/** A container to check between passes. */
interface Queued extends DockerSaid {
  serviceId: string;
}

/** Between passes: events queued, back-offs ending, a wake-up (SIGUSR2, the daemon back). */
interface Wakeups {
  /** Container name -> what to check, from Docker's events. */
  events: Map<string, Queued>;
  passNow: boolean;
  stopping: boolean;
  /** A check failed (the daemon away?): no more until the next pass, so no tight loop. */
  checkFailed: boolean;
  /** Ends the current wait between checks: an event or a signal came. */
  poke: () => void;
}

/**
 * Waits `ms`, or less if poked: a die or kill event is acted on at once, not
 * up to 100 ms later (a `docker restart` starts the container again within
 * a few hundred ms, and its replica must be out of nginx by then).
 */
async function nap(wake: Wakeups, ms: number, fx: SuperviseEffects): Promise<void> {
  const poked = new Promise<void>((resolve) => (wake.poke = resolve));
  await Promise.race([fx.clock.sleep(ms), poked]);
  wake.poke = () => undefined;
}

async function checkBetweenPasses(
  wake: Wakeups,
  supervisor: Supervisor,
  fx: SuperviseEffects,
): Promise<void> {
  const { memory, log } = supervisor;
  if (wake.checkFailed) return wake.events.clear();
  const due = new Map<string, Queued>(
    dueContainers(memory, fx.clock.now()).map(([name, serviceId]) => [name, { serviceId }]),
  );
  for (const [name, queued] of wake.events) due.set(name, queued);
  wake.events.clear();
  for (const [name, { serviceId, ...docker }] of due) {
    try {
      await superviseContainerNow(serviceId, name, supervisor, fx, docker);
    } catch (err) {
      log(`${serviceId} ${name}: check failed: ${(err as Error).message}; next at the next pass`);
      wake.checkFailed = true;
      return;
    }
  }
  // A probe or the store failing must not end the supervisor: tried again next time.
  await supervisor.holds
    .releaseHealthy(log)
    .catch((err: Error) => log(`checking held replicas failed: ${err.message}`));
}

/** Passes every PASS_INTERVAL_MS, and checks in between as events and wake-ups say. */
async function runPasses(wake: Wakeups, supervisor: Supervisor, fx: SuperviseEffects) {
  const { log } = supervisor;
  do {
    const started = fx.clock.now();
    wake.passNow = false;
    wake.checkFailed = false;
    await superviseOnce(supervisor, fx).catch((err: Error) => log(`pass failed: ${err.message}`));
    while (!wake.stopping && !wake.passNow && fx.clock.now() < started + PASS_INTERVAL_MS) {
      await checkBetweenPasses(wake, supervisor, fx);
      if (wake.events.size === 0) await nap(wake, 100, fx);
    }
  } while (!wake.stopping);
}

/**
 * Runs passes until SIGTERM or SIGINT (then finishes the pass and releases
 * its lock), one supervisor per host: a second one exits.
 */
export async function supervise(
  once: boolean,
  log: Log,
  fx: SuperviseEffects = hostEffects(),
): Promise<number> {
  const ran = await fx.locks.tryHold(LOCKS.supervisor, async () => {
    const supervisor: Supervisor = { memory: new Map(), holds: new Holds(fx, log), log };
    const wake: Wakeups = {
      events: new Map(),
      passNow: false,
      stopping: once,
      checkFailed: false,
      poke: () => undefined,
    };
    const stopListening = fx.processes.onSignals(["SIGTERM", "SIGINT"], () => {
      wake.stopping = true;
      wake.poke();
    });
    // `conductor resume` asks for a pass now (SIGUSR1 would start Node's inspector).
    const stopWaking = fx.processes.onSignals([WAKE_SIGNAL], () => {
      wake.passNow = true;
      wake.poke();
    });
    fx.store.writeSupervisorPid(fx.processes.pid);
    log(`supervising (pid ${fx.processes.pid})`);
    const stopWatching = once
      ? async () => undefined
      : watchEvents(
          {
            onEvent: (e) => {
              wake.events.set(e.name, queued(e, wake.events.get(e.name)));
              wake.poke();
            },
            onReconnect: () => {
              wake.passNow = true;
              wake.poke();
            },
          },
          log,
          fx,
        );
    try {
      await runPasses(wake, supervisor, fx);
    } finally {
      stopListening();
      stopWaking();
      await stopWatching();
    }
    if (!once) {
      fx.store.removeSupervisorPid();
      log("stopped");
    }
    return 0;
  });
  if (ran === undefined) {
    log("another conductor supervise runs on this host; leaving it to that one");
    return once ? 1 : 0;
  }
  return ran;
}

/**
 * An event queues its container; one that stops or starts it (kill, die,
 * start) also holds it out of nginx, named by the first such event of the
 * container before the check.
 */
function queued(e: DockerEvent, before: Queued | undefined): Queued {
  const action = e.action.split(":")[0];
  const holding = HOLDING_EVENTS.includes(action);
  const event = before?.event ?? (holding ? action : undefined);
  const stopping = holding ? action === "kill" : before?.stopping;
  const signal = holding ? (action === "kill" ? e.attributes.signal : undefined) : before?.signal;
  return {
    serviceId: e.attributes[LABELS.service],
    ...(event && { event }),
    ...(stopping !== undefined && { stopping }),
    ...(signal !== undefined && { signal }),
  };
}
