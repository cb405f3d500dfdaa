// `conductor supervise [--once]`: keeps every deployed container of every
// supervised, unpaused service running and healthy, from the desired state the
// deploy left on the host (releases and container records). One pass at most
// every 5 seconds; the rules for one container are in decide.ts.
import * as fs from "node:fs";
import { createAndStart, serviceLock } from "../container";
import * as docker from "../docker";
import { probe, sleep } from "../health";
import { withHostLock, withTryLock } from "../lock";
import { pausedFile, releasesDir, supervisorPidFile, supervisorStatusFile } from "../paths";
import type { ReleaseRequest } from "../../protocol/requests";
import {
  type ContainerRecord,
  readJsonFiles,
  readRecord,
  readRecords,
  writeFileAtomic,
} from "../records";
import { type Action, decide, freshMemory, type Memory, type Observed } from "./decide";

export const PASS_INTERVAL_MS = 5_000;

export interface ContainerStatus {
  serviceId: string;
  memory: Memory;
  observed: Observed["state"];
  healthy?: boolean;
  lastAction?: string;
}

/** What the supervisor knows between passes; also written for `conductor status`. */
export type SupervisorMemory = Map<string, ContainerStatus>;

export function readReleases(): ReleaseRequest[] {
  return readJsonFiles<ReleaseRequest>(releasesDir());
}

export const isPaused = (serviceId: string) => fs.existsSync(pausedFile(serviceId));

async function observe(record: ContainerRecord): Promise<Observed> {
  const state = await docker.inspectContainer(record.name);
  if (!state) return { state: "missing" };
  if (state.status !== "running") return { state: "stopped" };
  const check = record.spec.http?.healthCheck;
  if (!check || !record.hostPort) return { state: "running", healthy: undefined };
  return { state: "running", healthy: (await probe(record.hostPort, check)).healthy };
}

async function perform(action: Action, record: ContainerRecord): Promise<void> {
  switch (action.kind) {
    case "recreate":
      // Same name, port and spec: nginx already points at that port.
      await docker.removeContainer(record.name);
      await createAndStart(record.spec, record.name, record.hostPort);
      return;
    case "start":
      return docker.startContainer(record.name);
    case "restart":
      return docker.restartContainer(record.name, Math.ceil(record.spec.stopTimeoutMs / 1000));
    case "none":
    case "wait":
      return;
    default: {
      const never: never = action;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

/** One container, under its service's lock, so it never races a deploy that stops it. */
async function superviseContainer(
  serviceId: string,
  name: string,
  memory: SupervisorMemory,
  log: (line: string) => void,
): Promise<void> {
  await withHostLock(serviceLock(serviceId), async () => {
    // Read again under the lock: a deploy may have just taken it away.
    const record = readRecord(name);
    if (!record) return;
    const before = memory.get(name) ?? { serviceId, memory: freshMemory(), observed: "missing" };
    const observed = await observe(record);
    const decision = decide(observed, before.memory, Date.now());
    const status: ContainerStatus = {
      serviceId,
      memory: decision.memory,
      observed: observed.state,
      healthy: observed.state === "running" ? observed.healthy : undefined,
      lastAction: before.lastAction,
    };
    memory.set(name, status);
    await report(decision.action, before, status, name, log);
    try {
      await perform(decision.action, record);
    } catch (err) {
      log(`${serviceId} ${name}: ${decision.action.kind} failed: ${(err as Error).message}`);
    }
  });
}

async function report(
  action: Action,
  before: ContainerStatus,
  after: ContainerStatus,
  name: string,
  log: (line: string) => void,
) {
  if (action.kind === "none") return;
  const line =
    action.kind === "wait"
      ? `waiting until ${new Date(action.untilMs).toISOString()} (${action.reason})`
      : `${action.kind} (${action.reason}; attempt ${after.memory.attempts}, next no sooner than ${Math.round((after.memory.notBefore - Date.now()) / 1000)}s from now)`;
  // A back-off is announced once, not every pass.
  if (action.kind === "wait" && before.lastAction === line) return;
  after.lastAction = line;
  log(`${after.serviceId} ${name}: ${line}`);
}

export async function superviseOnce(
  memory: SupervisorMemory,
  log: (line: string) => void,
): Promise<void> {
  const recorded = new Set(readRecords().map((r) => r.name));
  const wanted = new Set<string>();
  for (const release of readReleases()) {
    if (!release.supervise || isPaused(release.serviceId)) continue;
    // Only containers the deploy finished (recorded) and released: never
    // one a deploy is still starting, or stopping.
    for (const name of release.containers.filter((n) => recorded.has(n))) {
      wanted.add(name);
      await superviseContainer(release.serviceId, name, memory, log);
    }
  }
  for (const name of memory.keys()) if (!wanted.has(name)) memory.delete(name);
  writeFileAtomic(
    supervisorStatusFile(),
    JSON.stringify({ updatedAt: Date.now(), containers: Object.fromEntries(memory) }),
    0o600,
  );
}

/**
 * Runs passes until SIGTERM or SIGINT (then finishes the pass and releases
 * its lock), one supervisor per host: a second one exits.
 */
export async function supervise(once: boolean, log: (line: string) => void): Promise<number> {
  const ran = await withTryLock("supervisor", async () => {
    const memory: SupervisorMemory = new Map();
    let stopping = once;
    const stop = () => (stopping = true);
    process.on("SIGTERM", stop).on("SIGINT", stop);
    fs.writeFileSync(supervisorPidFile(), `${process.pid}\n`);
    log(`supervising (pid ${process.pid})`);
    do {
      const started = Date.now();
      await superviseOnce(memory, log).catch((err: Error) => log(`pass failed: ${err.message}`));
      while (!stopping && Date.now() < started + PASS_INTERVAL_MS) await sleep(100);
    } while (!stopping);
    if (!once) {
      fs.rmSync(supervisorPidFile(), { force: true });
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
