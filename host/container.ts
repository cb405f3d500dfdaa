// `conductor container up|down`: start one deployed container and wait until
// it is healthy, or stop one gracefully. The deploy calls these once per
// container; Pulumi's create-before-delete order does the rest.
import * as net from "node:net";
import * as docker from "./docker";
import { probe, sleep } from "./health";
import { withHostLock } from "./lock";
import type { ContainerSpec, ContainerStopRequest, StartedContainer } from "../protocol/requests";
import { containerName, removeRecord, writeRecord } from "./records";

const PORT_BASE = 20000;
const PORT_RANGE = 10000;
const LOG_LINES = 30;

export const LABELS = {
  service: "conductor.service",
  slot: "conductor.slot",
  port: "conductor.port",
};

export async function containerUp(
  spec: ContainerSpec,
  log: (line: string) => void,
): Promise<StartedContainer> {
  const name = containerName(spec);
  const existing = await docker.inspectContainer(name);
  let hostPort = existing ? portLabel(existing.labels) : undefined;
  if (existing?.status === "running") {
    log(`${name}: already running (an earlier deploy started it), checking its health`);
  } else {
    if (existing) await docker.removeContainer(name);
    await ensureImage(spec, log);
    hostPort = await createAndStart(spec, name, hostPort);
    log(`${name}: started${hostPort ? ` on 127.0.0.1:${hostPort}` : ""}`);
  }
  await waitHealthyOrRemove(spec, name, hostPort);
  writeRecord({ name, hostPort, spec });
  return { name, hostPort };
}

export async function containerDown(
  req: ContainerStopRequest,
  log: (line: string) => void,
): Promise<void> {
  // Under the service's lock, the record goes first: from then on the
  // supervisor leaves this container alone (host/supervise/loop.ts).
  await withHostLock(serviceLock(req.serviceId), async () => {
    removeRecord(req.name);
    const seconds = Math.ceil(req.stopTimeoutMs / 1000);
    await docker.stopContainer(req.name, seconds);
    await docker.removeContainer(req.name);
  });
  log(`${req.name}: stopped and removed`);
}

function portLabel(labels: Record<string, string>): number | undefined {
  const port = Number(labels[LABELS.port]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function ensureImage(spec: ContainerSpec, log: (line: string) => void): Promise<void> {
  const ref = `${spec.image}:${spec.revision}`;
  if (await docker.imageExists(ref)) return;
  log(`${ref}: not on this host, pulling`);
  await docker.pullImage(spec.image, spec.revision);
}

/** The lock the deploy and the supervisor take before stopping or starting a service's containers. */
export const serviceLock = (serviceId: string) => `service-${serviceId}`;

/**
 * Creates and starts the container (keeping `keepPort` when given); takes
 * the host's port lock. The supervisor recreates containers with it too.
 */
export async function createAndStart(
  spec: ContainerSpec,
  name: string,
  keepPort?: number,
): Promise<number | undefined> {
  return withHostLock("ports", () => createAndStartLocked(spec, name, keepPort));
}

async function createAndStartLocked(
  spec: ContainerSpec,
  name: string,
  keepPort?: number,
): Promise<number | undefined> {
  const hostPort = spec.http ? (keepPort ?? (await freePort())) : undefined;
  await docker.createContainer({
    name,
    image: `${spec.image}:${spec.revision}`,
    command: spec.command,
    env: spec.env,
    stopTimeoutSeconds: Math.ceil(spec.stopTimeoutMs / 1000),
    labels: {
      [LABELS.service]: spec.serviceId,
      [LABELS.slot]: String(spec.slot),
      ...(hostPort ? { [LABELS.port]: String(hostPort) } : {}),
    },
    publish: spec.http && hostPort ? { containerPort: spec.http.port, hostPort } : undefined,
  });
  try {
    await docker.startContainer(name);
  } catch (err) {
    await docker.removeContainer(name);
    throw err;
  }
  return hostPort;
}

/** A port no conductor container holds (running or not) and nothing listens on. */
async function freePort(): Promise<number> {
  const taken = new Set(
    (await docker.listContainers(LABELS.port)).map((c) => Number(c.labels[LABELS.port])),
  );
  const start = Math.floor(Math.random() * PORT_RANGE);
  for (let i = 0; i < PORT_RANGE; i++) {
    const port = PORT_BASE + ((start + i) % PORT_RANGE);
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port in 127.0.0.1:${PORT_BASE}-${PORT_BASE + PORT_RANGE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitHealthyOrRemove(
  spec: ContainerSpec,
  name: string,
  hostPort: number | undefined,
) {
  const failure = await waitHealthy(spec, name, hostPort);
  if (!failure) return;
  const logs = await docker.containerLogs(name, LOG_LINES);
  await docker.removeContainer(name);
  removeRecord(name);
  throw new Error(
    `${name} did not become healthy: ${failure}\n--- last ${LOG_LINES} log lines of ${name} ---\n${logs.trimEnd() || "(no output)"}`,
  );
}

/** Polls until healthy (or, without http, until it has stayed up briefly); returns why not. */
async function waitHealthy(
  spec: ContainerSpec,
  name: string,
  hostPort?: number,
): Promise<string | undefined> {
  const check = spec.http?.healthCheck;
  const deadline = Date.now() + (check?.deadlineMs ?? 2000);
  let last = "not checked yet";
  for (;;) {
    const state = await docker.inspectContainer(name);
    if (!state || state.status !== "running") {
      return `the container ${state ? `exited with code ${state.exitCode}` : "disappeared"}`;
    }
    if (check && hostPort) {
      const result = await probe(hostPort, check);
      if (result.healthy) return undefined;
      last = `GET ${check.path} on port ${hostPort}: ${result.reason}`;
    } else if (Date.now() >= deadline) {
      return undefined; // no health check: running at the end of the grace period is healthy
    }
    if (Date.now() >= deadline) return `${last} (deadline ${check?.deadlineMs}ms)`;
    await sleep(check?.intervalMs ?? 250);
  }
}
