// `conductor container up|down`: start one deployed container and wait until
// it is healthy, or stop one gracefully. The deploy calls these once per
// container; Pulumi's create-before-delete order does the rest
// (docs/architecture.md, "The deploy, in order").
import type { ContainerState, CreateOptions } from "./docker";
import { type HostEffects, hostEffects, type Log } from "./effects";
import { commandProbe, type Probe } from "./health";
import type { Locks } from "./lock";
import { containerName } from "./naming";
import { LABELS, LOCKS } from "./store";
import type { ContainerSpec, ContainerStopRequest, StartedContainer } from "../protocol/requests";

const PORT_BASE = 20000;
const PORT_RANGE = 10000;
const LOG_LINES = 30;

/** What createAndStart needs; the supervisor recreates containers with it too. */
export type StartEffects = Pick<HostEffects, "docker" | "locks" | "random" | "canListen">;
export type ContainerEffects = StartEffects & Pick<HostEffects, "store" | "probe" | "clock">;

export async function containerUp(
  spec: ContainerSpec,
  log: Log,
  fx: ContainerEffects = hostEffects(),
): Promise<StartedContainer> {
  const name = containerName(spec, fx.store.salt());
  const existing = await fx.docker.inspectContainer(name);
  let hostPort = existing ? portLabel(existing.labels) : undefined;
  if (existing?.status === "running") {
    log(`${name}: already running (an earlier deploy started it), checking its health`);
  } else {
    if (existing) await fx.docker.removeContainer(name);
    await ensureImage(spec, log, fx);
    hostPort = await createAndStart(spec, name, hostPort, fx);
    log(`${name}: started${hostPort ? ` on 127.0.0.1:${hostPort}` : ""}`);
  }
  await waitHealthyOrRemove(spec, name, hostPort, fx);
  // Only now: a record tells the supervisor and the release that it is deployed.
  fx.store.writeContainer({ name, hostPort, spec });
  return { name, hostPort };
}

export async function containerDown(
  req: ContainerStopRequest,
  log: Log,
  fx: Pick<HostEffects, "docker" | "store" | "locks"> = hostEffects(),
): Promise<void> {
  // The record goes first, under the service's lock: from then on the
  // supervisor, which reads it under that lock, leaves this container alone
  // (supervise/loop.ts). No record (the release took it away) needs no lock.
  // The stop itself holds no lock, so the deletes of a service's replicas
  // never wait for each other: after a release, each costs two 404s.
  if (fx.store.readContainer(req.name).status !== "missing") {
    await fx.locks.hold(LOCKS.service(req.serviceId), async () =>
      fx.store.removeContainer(req.name),
    );
  }
  await fx.docker.stopContainer(req.name, Math.ceil(req.stopTimeoutMs / 1000));
  await fx.docker.removeContainer(req.name);
  log(`${req.name}: stopped and removed`);
}

function portLabel(labels: Record<string, string>): number | undefined {
  const port = Number(labels[LABELS.port]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function ensureImage(spec: ContainerSpec, log: Log, fx: Pick<HostEffects, "docker">) {
  const ref = `${spec.image}:${spec.revision}`;
  if (await fx.docker.imageExists(ref)) return;
  log(`${ref}: not on this host, pulling`);
  await fx.docker.pullImage(spec.image, spec.revision);
}

/**
 * Creates and starts the container (keeping `keepPort` when given). The start
 * holds no lock: it is most of the time (0.5-0.6 s here, the network set up
 * and the port published), and under the port lock the 20 containers of a
 * 10 x 2 deploy started one after another (issue 11).
 */
export async function createAndStart(
  spec: ContainerSpec,
  name: string,
  keepPort: number | undefined,
  fx: StartEffects,
): Promise<number | undefined> {
  const hostPort = spec.http
    ? await createWithPort({ spec, name, keepPort }, fx)
    : // No port to pick, so no lock to wait for.
      await fx.docker.createContainer(createOptions(spec, name, undefined)).then(() => undefined);
  try {
    await fx.docker.startContainer(name);
  } catch (err) {
    await fx.docker.removeContainer(name);
    throw err;
  }
  return hostPort;
}

function createOptions(spec: ContainerSpec, name: string, port: number | undefined): CreateOptions {
  return {
    name,
    image: `${spec.image}:${spec.revision}`,
    command: spec.command,
    env: spec.env,
    stopTimeoutSeconds: Math.ceil(spec.stopTimeoutMs / 1000),
    ...runtimeOptions(spec),
    ...(spec.logging && { logging: spec.logging }),
    labels: {
      // conductor's own labels last: the service's cannot override them.
      ...spec.labels,
      [LABELS.service]: spec.serviceId,
      [LABELS.slot]: String(spec.slot),
      ...(port ? { [LABELS.port]: String(port) } : {}),
    },
    publish: spec.http && port ? { containerPort: spec.http.port, hostPort: port } : undefined,
  };
}

/** An http container waiting to be created, and the caller waiting for its port. */
interface Creation {
  spec: ContainerSpec;
  name: string;
  keepPort: number | undefined;
  created(port: number): void;
  failed(err: unknown): void;
}

/**
 * The creations of this process waiting for the host's port lock, by Locks
 * (one per lock directory: effects.ts). Picking a port and creating the
 * container hold that lock, so that two containers, of this process or
 * another (another deploy's `conductor serve`, the supervisor), never pick
 * the same free port: once created, a container's port label marks its port
 * taken for the next picker (freePort). Those that wait together take it
 * together, as a group commit: one listing, distinct ports, their creates at
 * once. One at a time, the 20 creates of a 10 x 2 deploy came ~0.15 s apart
 * (issue 11).
 */
interface PortQueue {
  /** The group still taking creations: it has not got the lock yet. */
  open?: Creation[];
  /**
   * The last group's hold: the next group waits for it here, and takes the
   * lock as it lets go, not up to 100 ms later at its next try (lock.ts polls
   * a lock another holds).
   */
  last: Promise<unknown>;
}
const portQueues = new WeakMap<Locks, PortQueue>();

function portQueueOf(locks: Locks): PortQueue {
  let queue = portQueues.get(locks);
  if (!queue) portQueues.set(locks, (queue = { last: Promise.resolve() }));
  return queue;
}

function createWithPort(
  c: Pick<Creation, "spec" | "name" | "keepPort">,
  fx: StartEffects,
): Promise<number> {
  return new Promise((created, failed) => {
    const q = portQueueOf(fx.locks);
    if (q.open) return void q.open.push({ ...c, created, failed });
    const mine = [{ ...c, created, failed }];
    q.open = mine;
    const held = q.last.then(() =>
      fx.locks.hold(LOCKS.ports, () => {
        // Those that come from now on wait for the next hold.
        q.open = undefined;
        return createGroup(mine, fx);
      }),
    );
    q.last = held.catch(() => undefined);
    held.then(
      (outcomes) =>
        outcomes.forEach((o, i) =>
          o.status === "fulfilled" ? mine[i].created(o.value) : mine[i].failed(o.reason),
        ),
      (err) => {
        // It gave up waiting: later creates must not join a group that will never run.
        if (q.open === mine) q.open = undefined;
        mine.forEach((m) => m.failed(err));
      },
    );
  });
}

/** Under the port lock, let go once all are created: the port of each, or why its create failed. */
async function createGroup(group: Creation[], fx: StartEffects) {
  const ports = await pickPorts(group, fx);
  return Promise.allSettled(
    group.map(async (c, i) => {
      await fx.docker.createContainer(createOptions(c.spec, c.name, ports[i]));
      return ports[i];
    }),
  );
}

/** Each its port to keep, else a free one (freePort), none the same. */
async function pickPorts(group: Creation[], fx: StartEffects): Promise<number[]> {
  const kept = group.flatMap((c) => (c.keepPort ? [c.keepPort] : []));
  if (kept.length === group.length) return kept;
  const listed = await fx.docker.listContainers(LABELS.port);
  const taken = new Set([...listed.map((l) => Number(l.labels[LABELS.port])), ...kept]);
  const ports: number[] = [];
  for (const c of group) {
    const port = c.keepPort ?? (await freePort(taken, fx));
    taken.add(port);
    ports.push(port);
  }
  return ports;
}

/**
 * The create options of a service's runtime fields (protocol runtimeShape),
 * for its deployed containers and its one-offs (run.ts); labels apart, as
 * each merges them with its own. Absent fields stay absent: Docker's defaults.
 */
export function runtimeOptions(
  r: Pick<ContainerSpec, "volumes" | "resources" | "user" | "stopSignal">,
): Partial<CreateOptions> {
  return {
    ...(r.volumes && { volumes: r.volumes }),
    ...(r.resources?.memoryBytes !== undefined && { memoryBytes: r.resources.memoryBytes }),
    ...(r.resources?.cpus !== undefined && { cpus: r.resources.cpus }),
    ...(r.user !== undefined && { user: r.user }),
    ...(r.stopSignal !== undefined && { stopSignal: r.stopSignal }),
  };
}

/** A port not `taken` (by conductor's containers, running or not) that nothing listens on. */
async function freePort(taken: Set<number>, fx: StartEffects): Promise<number> {
  const start = Math.floor(fx.random.fraction() * PORT_RANGE);
  for (let i = 0; i < PORT_RANGE; i++) {
    const port = PORT_BASE + ((start + i) % PORT_RANGE);
    if (!taken.has(port) && (await fx.canListen(port))) return port;
  }
  throw new Error(`no free port in 127.0.0.1:${PORT_BASE}-${PORT_BASE + PORT_RANGE - 1}`);
}

async function waitHealthyOrRemove(
  spec: ContainerSpec,
  name: string,
  hostPort: number | undefined,
  fx: ContainerEffects,
) {
  const failure = await waitHealthy(spec, name, hostPort, fx);
  if (!failure) return;
  // A driver such as `none` keeps no logs to read; the failure still counts.
  const logs = await fx.docker
    .containerLogs(name, LOG_LINES)
    .catch((err: Error) => `(its logs cannot be read: ${err.message})`);
  await fx.docker.removeContainer(name);
  fx.store.removeContainer(name);
  throw new Error(
    `${name} did not become healthy: ${failure}\n--- last ${LOG_LINES} log lines of ${name} ---\n${logs.trimEnd() || "(no output)"}`,
  );
}

/** Polls until healthy (or, without a check, until it has stayed up briefly); returns why not. */
async function waitHealthy(
  spec: ContainerSpec,
  name: string,
  hostPort: number | undefined,
  fx: ContainerEffects,
): Promise<string | undefined> {
  const check = healthCheckOf(spec, name, hostPort, fx);
  if (!check) return stayedUp(spec, name, fx);
  const deadline = fx.clock.now() + check.deadlineMs;
  let inspectAt = fx.clock.now();
  for (;;) {
    // The probe first: a healthy answer says it runs, without asking Docker.
    const result = await check.probe();
    if (result.healthy) return undefined;
    const now = fx.clock.now();
    // Whether it still runs, so that a crashed app fails the deploy now
    // with its exit code, not at the deadline; not at every probe: 20
    // containers waiting asked dockerd 200 times a second, on the cores the
    // apps were booting on (issue 11).
    if (now >= inspectAt || now >= deadline) {
      const state = await fx.docker.inspectContainer(name);
      if (!state || state.status !== "running") return stoppedReason(state, spec);
      inspectAt = now + DEPLOY_INSPECT_MS;
    }
    if (now >= deadline) return `${check.what}: ${result.reason} (deadline ${check.deadlineMs}ms)`;
    await fx.clock.sleep(deployPollMs(check));
  }
}

/** How often the deploy asks Docker whether a container that is not healthy yet still runs. */
const DEPLOY_INSPECT_MS = 500;

/** Without a health check: running at the end of a grace period is healthy. */
async function stayedUp(
  spec: ContainerSpec,
  name: string,
  fx: ContainerEffects,
): Promise<string | undefined> {
  const deadline = fx.clock.now() + NO_CHECK_GRACE_MS;
  for (;;) {
    const state = await fx.docker.inspectContainer(name);
    if (!state || state.status !== "running") return stoppedReason(state, spec);
    if (fx.clock.now() >= deadline) return undefined;
    await fx.clock.sleep(250);
  }
}

const NO_CHECK_GRACE_MS = 2000;

/**
 * How often the deploy asks while it waits: an HTTP check on 127.0.0.1 is
 * cheap, so every 100 ms whatever `interval` says, and the deploy moves on
 * within 100 ms of the app answering (at the default 1 s interval it lost up
 * to a second per container). `interval` paces the supervisor's checks, and a
 * command check's, which runs a process in the container each time.
 */
export const DEPLOY_HTTP_POLL_MS = 100;

function deployPollMs(check: ContainerCheck): number {
  return check.kind === "http" ? Math.min(check.intervalMs, DEPLOY_HTTP_POLL_MS) : check.intervalMs;
}

function stoppedReason(state: ContainerState | undefined, spec: ContainerSpec): string {
  if (!state) return "the container disappeared";
  const oom = OOM_WORDS[oomOf(state, spec) ?? "none"];
  return `the container exited with code ${state.exitCode}${oom}`;
}

const OOM_WORDS = {
  killed: " (OOM-killed at its memory limit)",
  likely: " (killed by SIGKILL at its memory limit: likely out of memory)",
  none: "",
};

/** SIGKILL's exit code. */
const KILLED = 137;

/**
 * Whether a stopped container ran out of memory: "killed" when Docker says
 * so (State.OOMKilled), "likely" when it was SIGKILLed under a memory limit.
 * Docker 20.10 on cgroup v1 does not always hear of the kernel's OOM kill
 * (seen on kernel 6.18: the kernel logs "Memory cgroup out of memory",
 * Docker reports OOMKilled false and no oom event).
 */
export function oomOf(state: ContainerState, spec: ContainerSpec): "killed" | "likely" | undefined {
  if (state.oomKilled) return "killed";
  if (state.exitCode === KILLED && spec.resources?.memoryBytes !== undefined) return "likely";
  return undefined;
}

export interface ContainerCheck {
  kind: "http" | "command";
  /** For messages: `GET /health on port 20001`, or `command check`. */
  what: string;
  deadlineMs: number;
  intervalMs: number;
  probe(): Promise<Probe>;
}

/**
 * The container's health check: over HTTP for http services, its command
 * (Docker exec) for others that have one, else none. The supervisor uses it too.
 */
export function healthCheckOf(
  spec: ContainerSpec,
  name: string,
  hostPort: number | undefined,
  fx: Pick<HostEffects, "docker" | "probe">,
): ContainerCheck | undefined {
  const http = spec.http?.healthCheck;
  if (http && hostPort) {
    const what = `GET ${http.path} on port ${hostPort}`;
    return { kind: "http", what, ...http, probe: () => fx.probe(hostPort, http) };
  }
  const command = spec.http ? undefined : spec.healthCheck;
  if (!command) return undefined;
  return {
    kind: "command",
    what: "command check",
    ...command,
    probe: () => commandProbe(fx.docker, name, command),
  };
}
