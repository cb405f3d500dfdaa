// `conductor status [--json]`, `conductor pause <id>`, `conductor resume <id>`.
import * as fs from "node:fs";
import * as docker from "../docker";
import { probe } from "../health";
import { pausedDir, pausedFile, supervisorStatusFile } from "../paths";
import { readRecords } from "../records";
import { readRelease } from "../run";
import { isPaused, readReleases, type ContainerStatus } from "./loop";

export interface ServiceStatus {
  id: string;
  revision: string;
  supervision: "active" | "paused" | "off";
  desired: number;
  running: number;
  healthy: number;
  containers: {
    name: string;
    state: string;
    healthy?: boolean;
    restarts: number;
    backoffUntil?: string;
  }[];
}

function supervisorMemory(): Record<string, ContainerStatus> {
  try {
    return (
      JSON.parse(fs.readFileSync(supervisorStatusFile(), "utf8")) as {
        containers: Record<string, ContainerStatus>;
      }
    ).containers;
  } catch {
    return {};
  }
}

export async function collectStatus(): Promise<ServiceStatus[]> {
  const records = new Map(readRecords().map((r) => [r.name, r]));
  const memory = supervisorMemory();
  const services: ServiceStatus[] = [];
  for (const release of readReleases().sort((a, b) => a.serviceId.localeCompare(b.serviceId))) {
    const containers = await Promise.all(
      release.containers.map(async (name) => {
        const state = await docker.inspectContainer(name);
        const record = records.get(name);
        const check = record?.spec.http?.healthCheck;
        const healthy =
          state?.status === "running" && check && record?.hostPort
            ? (await probe(record.hostPort, check)).healthy
            : undefined;
        const m = memory[name]?.memory;
        const backoff =
          m && m.notBefore > Date.now() ? new Date(m.notBefore).toISOString() : undefined;
        return {
          name,
          state: state?.status ?? "missing",
          healthy,
          restarts: m?.restarts ?? 0,
          backoffUntil: backoff,
        };
      }),
    );
    services.push({
      id: release.serviceId,
      revision: release.revision,
      supervision: !release.supervise ? "off" : isPaused(release.serviceId) ? "paused" : "active",
      desired: release.containers.length,
      running: containers.filter((c) => c.state === "running").length,
      healthy: containers.filter((c) => c.healthy !== false && c.state === "running").length,
      containers,
    });
  }
  return services;
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
  const notes = services.flatMap((s) =>
    s.containers
      .filter((c) => c.state !== "running" || c.healthy === false || c.backoffUntil)
      .map(
        (c) =>
          `  ${c.name}: ${c.state}${c.healthy === false ? ", unhealthy" : ""}${c.backoffUntil ? `, backing off until ${c.backoffUntil}` : ""}`,
      ),
  );
  return `${[...table, ...notes].join("\n")}\n`;
}

export function pause(id: string): string {
  readRelease(id); // a clear error for an id that is not deployed here
  fs.mkdirSync(pausedDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(pausedFile(id), `${new Date().toISOString()}\n`);
  return `${id}: paused; conductor supervise leaves it alone until \`conductor resume ${id}\``;
}

export function resume(id: string): string {
  readRelease(id);
  fs.rmSync(pausedFile(id), { force: true });
  return `${id}: supervised again`;
}
