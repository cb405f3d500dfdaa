// `conductor status [--json]`, `conductor pause <id>`, `conductor resume <id>`.
import { type HostEffects, hostEffects } from "../effects";
import { type Fault, StoreError } from "../files";
import { confName } from "../nginx";
import { heldIn } from "../nginx-holds";
import { readRelease } from "../run";
import type { ContainerRecord, ContainerStatus, HostStore, ReleaseRecord } from "../store";
import { type DaemonEffects, runningSupervisor } from "./daemon";
import { WAKE_SIGNAL } from "./loop";

export interface ServiceStatus {
  id: string;
  revision: string;
  /** "unknown": the release cannot be read (see problems); the counts are then 0. */
  supervision: "active" | "paused" | "off" | "unknown";
  desired: number;
  running: number;
  healthy: number;
  containers: {
    name: string;
    state: string;
    healthy?: boolean;
    restarts: number;
    backoffUntil?: string;
    /** Kept out of nginx by the supervisor until it answers its health check (holds.ts). */
    heldOutSince?: string;
  }[];
  /** Files of the service the host cannot read, so conductor supervise skips them. */
  problems: string[];
}

export type StatusEffects = Pick<
  HostEffects,
  "docker" | "store" | "probe" | "clock" | "nginxConfDir"
>;

function supervisorMemory(store: HostStore): Record<string, ContainerStatus> {
  const read = store.readSupervisorStatus();
  return read.status === "ok" ? read.value.containers : {};
}

export async function collectStatus(fx: StatusEffects = hostEffects()): Promise<ServiceStatus[]> {
  const records = fx.store.readContainers();
  const releases = fx.store.readReleases();
  const byName = new Map(records.values.map((r) => [r.name, r]));
  const memory = supervisorMemory(fx.store);
  const holds = fx.store.readHolds();
  const held = holds.status === "ok" ? holds.value : {};
  const services: ServiceStatus[] = [];
  for (const release of releases.values) {
    // Out of nginx as its file says (a hold whose commit failed is not; with
    // every replica held one is kept in), when held.json has it.
    const conf = fx.nginxConfDir.read(confName(release.serviceId));
    const marked = new Set(heldIn(conf ?? ""));
    const since = (name: string) => {
      const port = byName.get(name)?.hostPort;
      return port !== undefined && marked.has(port)
        ? held[release.serviceId]?.[name]?.since
        : undefined;
    };
    services.push(await serviceStatus(release, byName, memory, since, fx));
  }
  services.push(...releases.faults.map(unreadableRelease));
  for (const fault of records.faults) recordProblem(services, fault);
  return services.sort((a, b) => a.id.localeCompare(b.id));
}

async function serviceStatus(
  release: ReleaseRecord,
  records: Map<string, ContainerRecord>,
  memory: Record<string, ContainerStatus>,
  heldSince: (name: string) => number | undefined,
  fx: StatusEffects,
): Promise<ServiceStatus> {
  const containers = await Promise.all(
    release.containers.map(async (name) => {
      const state = await fx.docker.inspectContainer(name);
      const record = records.get(name);
      const check = record?.spec.http?.healthCheck;
      const healthy =
        state?.status === "running" && check && record?.hostPort
          ? (await fx.probe(record.hostPort, check)).healthy
          : undefined;
      const m = memory[name]?.memory;
      const backoff =
        m && m.notBefore > fx.clock.now() ? new Date(m.notBefore).toISOString() : undefined;
      const since = heldSince(name);
      return {
        name,
        state: state?.status ?? "missing",
        healthy,
        restarts: m?.restarts ?? 0,
        backoffUntil: backoff,
        ...(since !== undefined && { heldOutSince: new Date(since).toISOString() }),
      };
    }),
  );
  const problems: string[] = [];
  return {
    id: release.serviceId,
    revision: release.revision,
    supervision: supervision(release, fx.store, problems),
    desired: release.containers.length,
    running: containers.filter((c) => c.state === "running").length,
    healthy: containers.filter((c) => c.healthy !== false && c.state === "running").length,
    containers,
    problems,
  };
}

function supervision(
  release: ReleaseRecord,
  store: HostStore,
  problems: string[],
): ServiceStatus["supervision"] {
  if (!release.supervise) return "off";
  try {
    return store.isPaused(release.serviceId) ? "paused" : "active";
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    problems.push(`not supervised: ${err.message}`);
    return "unknown";
  }
}

/** A release file that cannot be read still names its service: its file name is the id. */
function unreadableRelease(fault: Fault & { name: string }): ServiceStatus {
  return {
    id: fault.name,
    revision: "-",
    supervision: "unknown",
    desired: 0,
    running: 0,
    healthy: 0,
    containers: [],
    problems: [`not supervised: ${fault.message}`],
  };
}

/**
 * A container record that cannot be read goes under the service whose release
 * lists the container or, failing that, whose id begins its name
 * (`<id>-<slot>-<fingerprint>`, naming.ts): a row of its own if that service
 * has no release here.
 */
function recordProblem(services: ServiceStatus[], fault: Fault & { name: string }) {
  const problem = `container ${fault.name} is not supervised: ${fault.message}`;
  const id = fault.name.replace(/-\d+-[0-9a-f]+$/, "");
  let service =
    services.find((s) => s.containers.some((c) => c.name === fault.name)) ??
    services.find((s) => s.id === id);
  if (!service) {
    service = { ...unreadableRelease({ ...fault, name: id }), problems: [] };
    services.push(service);
  }
  service.problems.push(problem);
}

export function formatStatus(services: ServiceStatus[]): string {
  if (services.length === 0) return "no services are deployed on this host\n";
  const lines = [
    ["SERVICE", "REVISION", "SUPERVISION", "DESIRED", "RUNNING", "HEALTHY", "RESTARTS"],
  ];
  for (const s of services) {
    const restarts = s.containers.reduce((n, c) => n + c.restarts, 0);
    lines.push([
      s.id,
      (s.revision ?? "-").slice(0, 12),
      s.supervision,
      `${s.desired}`,
      `${s.running}`,
      `${s.healthy}`,
      `${restarts}`,
    ]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const table = lines.map((l) =>
    l
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd(),
  );
  const notes = services.flatMap((s) => [
    ...s.containers
      .filter(
        (c) => c.state !== "running" || c.healthy === false || c.backoffUntil || c.heldOutSince,
      )
      .map(
        (c) =>
          `  ${c.name}: ${c.state}${c.healthy === false ? ", unhealthy" : ""}${c.backoffUntil ? `, backing off until ${c.backoffUntil}` : ""}${c.heldOutSince ? `, out of nginx since ${c.heldOutSince} until it answers its health check` : ""}`,
      ),
    ...s.problems.map((p) => `  ${s.id}: ${p}`),
  ]);
  return `${[...table, ...notes].join("\n")}\n`;
}

export function pause(
  id: string,
  fx: Pick<HostEffects, "store" | "clock"> = hostEffects(),
): string {
  readRelease(id, fx.store); // a clear error for an id that is not deployed here
  fx.store.pause(id, new Date(fx.clock.now()));
  return `${id}: paused; conductor supervise leaves it alone until \`conductor resume ${id}\``;
}

/** Clears the pause and wakes the running supervisor, which passes at once. */
export function resume(id: string, fx: DaemonEffects = hostEffects()): string {
  readRelease(id, fx.store);
  fx.store.resume(id);
  const pid = runningSupervisor(fx);
  if (pid === undefined)
    return `${id}: supervised again (no conductor supervise runs on this host)`;
  try {
    fx.processes.kill(pid, WAKE_SIGNAL);
  } catch {
    // it exited meanwhile: the next one passes at its start
  }
  return `${id}: supervised again`;
}
