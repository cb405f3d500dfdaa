// `npx conductor status --stack S [--json]`: every host of the stack, every
// service of the stack on it, from `conductor status report` on each host at
// once. Unreachable hosts are rows of their own; the exit code is 0 only when
// every host answered and every service its config puts there is deployed,
// running and healthy.
import type { Fleet } from "../config/model";
import type { ServiceStatus } from "../protocol/requests";
import type { Reached } from "./hosts";
import { formatTable } from "./table";

export interface ServiceRow {
  /** Its name in conductor:services (for a service no longer there, from its id). */
  service: string;
  id: string;
  /** The stack's config puts it on this host. */
  inConfig: boolean;
  /** The host has its release; else the counts are 0. */
  deployed: boolean;
  /** What the config says it should run, if it differs from what the host runs. */
  configRevision?: string;
  status?: ServiceStatus;
  healthy: boolean;
}

export interface HostRow {
  host: string;
  reachable: boolean;
  error?: string;
  services: ServiceRow[];
}

export interface FleetStatus {
  stack: string;
  healthy: boolean;
  hosts: HostRow[];
  /** What is not healthy, one line each. */
  problems: string[];
}

/** The service name of an id `<app>_<name>_<stack>` of this stack, else undefined. */
function nameOf(fleet: Fleet, id: string): string | undefined {
  const head = `${fleet.app}_`;
  const tail = `_${fleet.stack}`;
  return id.startsWith(head) && id.endsWith(tail) && id.length > head.length + tail.length
    ? id.slice(head.length, -tail.length)
    : undefined;
}

function serviceHealthy(s: ServiceStatus): boolean {
  return s.running === s.desired && s.healthy === s.desired && s.problems.length === 0;
}

function hostRow(fleet: Fleet, report: Reached<ServiceStatus[]>): HostRow {
  if (!report.ok) return { host: report.host, reachable: false, error: report.error, services: [] };
  const rows: ServiceRow[] = [];
  for (const service of fleet.services.filter((s) => s.hosts.includes(report.host))) {
    const status = report.value.find((s) => s.id === service.id);
    rows.push({
      service: service.name,
      id: service.id,
      inConfig: true,
      deployed: status !== undefined,
      configRevision: status && status.revision !== service.revision ? service.revision : undefined,
      status,
      healthy: status !== undefined && serviceHealthy(status),
    });
  }
  // Services of this stack the config no longer puts here (removed, or moved to other hosts).
  for (const status of report.value) {
    const name = nameOf(fleet, status.id);
    if (name === undefined || rows.some((r) => r.id === status.id)) continue;
    rows.push({
      service: name,
      id: status.id,
      inConfig: false,
      deployed: true,
      status,
      healthy: serviceHealthy(status),
    });
  }
  rows.sort((a, b) => a.service.localeCompare(b.service));
  return { host: report.host, reachable: true, services: rows };
}

function problemsOf(row: HostRow): string[] {
  if (!row.reachable) return [`${row.host}: unreachable: ${row.error}`];
  return row.services.flatMap((s) => {
    const where = `${row.host} ${s.service}`;
    if (!s.deployed) return [`${where}: not deployed on this host (run pulumi up)`];
    const st = s.status!;
    const lines: string[] = [];
    if (!s.healthy)
      lines.push(`${where}: ${st.healthy} of ${st.desired} healthy, ${st.running} running`);
    for (const c of st.containers)
      if (c.state !== "running" || c.healthy === false || c.backoffUntil)
        lines.push(
          `${where}: ${c.name}: ${c.state}${c.healthy === false ? ", unhealthy" : ""}${c.backoffUntil ? `, restarts backing off until ${c.backoffUntil}` : ""}`,
        );
    lines.push(...st.problems.map((p) => `${where}: ${p}`));
    return lines;
  });
}

export function fleetStatus(fleet: Fleet, reports: Reached<ServiceStatus[]>[]): FleetStatus {
  const hosts = reports.map((r) => hostRow(fleet, r));
  const problems = hosts.flatMap(problemsOf);
  const healthy = hosts.every((h) => h.reachable && h.services.every((s) => s.healthy));
  return { stack: fleet.stack, healthy, hosts, problems };
}

const HEADER = [
  "HOST",
  "SERVICE",
  "REVISION",
  "DESIRED",
  "RUNNING",
  "HEALTHY",
  "RESTARTS",
  "SUPERVISION",
];

function cells(host: string, s: ServiceRow): string[] {
  if (!s.status) return [host, s.service, "-", "-", "-", "-", "-", "not deployed"];
  const st = s.status;
  const restarts = st.containers.reduce((n, c) => n + c.restarts, 0);
  return [
    host,
    s.service,
    st.revision.slice(0, 12),
    `${st.desired}`,
    `${st.running}`,
    `${st.healthy}`,
    `${restarts}`,
    st.supervision,
  ];
}

/** Notes that are not problems: what the config says differently. */
function notes(status: FleetStatus): string[] {
  return status.hosts.flatMap((h) =>
    h.services.flatMap((s) => [
      ...(s.configRevision
        ? [`${h.host} ${s.service}: the config says revision ${s.configRevision} (run pulumi up)`]
        : []),
      ...(s.inConfig
        ? []
        : [`${h.host} ${s.service}: not in the stack's config on this host (run pulumi up)`]),
    ]),
  );
}

export function formatStatus(status: FleetStatus): string {
  const rows = [HEADER];
  for (const h of status.hosts) {
    if (!h.reachable) rows.push([h.host, "-", "unreachable"]);
    else if (h.services.length === 0) rows.push([h.host, "-", "no services of this stack"]);
    else rows.push(...h.services.map((s) => cells(h.host, s)));
  }
  const containers = status.hosts.reduce(
    (n, h) => n + h.services.reduce((m, s) => m + (s.status?.desired ?? 0), 0),
    0,
  );
  const verdict = status.healthy
    ? `healthy: ${containers} containers on ${status.hosts.length} hosts`
    : `NOT healthy:\n${status.problems.map((p) => `  ${p}`).join("\n")}`;
  const more = notes(status);
  return `${[...formatTable(rows), "", ...(more.length ? [...more, ""] : []), verdict].join("\n")}\n`;
}
