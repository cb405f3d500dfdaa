// The host state store: everything conductor believes about a host, under
// one directory (CONDUCTOR_STATE_DIR, default /var/lib/conductor; see
// docs/architecture.md, "What a host keeps"), and the names it gives things
// outside it: container labels and lock names. Records and releases hold the
// service's env, secrets included, so the directories and files are root-only.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { type ContainerSpec, containerSpec, runtimeShape } from "../protocol/requests";
import { REVISION, SERVICE_ID } from "../protocol/rules";
import {
  listJson,
  listNames,
  type Listing,
  type Read,
  readJson,
  readText,
  removeFile,
  StoreError,
  unreadable,
  writeFileAtomic,
} from "./files";

export const DEFAULT_STATE_DIR = "/var/lib/conductor";

/** The labels on conductor's containers, which the deploy and the supervisor select by. */
export const LABELS = {
  service: "conductor.service",
  slot: "conductor.slot",
  port: "conductor.port",
  /** One-off containers of `conductor run` and generate-cron. */
  run: "conductor.run",
} as const;

/** The host-wide locks, files in the store's `locks/`. */
export const LOCKS = {
  /** Taken by the deploy and the supervisor before stopping or starting a service's containers. */
  service: (serviceId: string) => `service-${serviceId}`,
  /** Choosing a free host port and creating the container that takes it. */
  ports: "ports",
  /** Writing a file of /etc/nginx/conf.d, checking and reloading. */
  nginx: "nginx",
  /** One `conductor supervise` per host. */
  supervisor: "supervisor",
  /** `conductor run --lock`: one run of the same command of a service at a time. */
  run: (serviceId: string, command: string[]) =>
    `run-${serviceId}-${crypto.createHash("sha256").update(command.join("\0")).digest("hex").slice(0, 16)}`,
};

/** A deployed container, written by `container up` once healthy. */
export interface ContainerRecord {
  name: string;
  hostPort?: number;
  spec: ContainerSpec;
}

// The spec was checked against the protocol's schema when `container up`
// received it, and the supervisor recreates the container from it.
const containerRecord: z.ZodType<ContainerRecord> = z.object({
  name: z.string().min(1),
  hostPort: z.number().int().min(1).max(65535).optional(),
  spec: containerSpec,
});

/**
 * A service's release on this host: what it runs (for the supervisor,
 * `conductor run` and cron jobs) and the containers that make it up. Its file
 * has the fields of the protocol's release request, so hosts deployed by
 * earlier versions keep working.
 */
const releaseRecord = z.object({
  serviceId: z.string().regex(SERVICE_ID),
  image: z.string().min(1),
  revision: z.string().regex(REVISION),
  command: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()),
  containers: z.array(z.string()),
  supervise: z.boolean(),
  // Optional: releases written before they existed have none.
  ...runtimeShape,
});
export type ReleaseRecord = z.infer<typeof releaseRecord>;

/** What the supervisor remembers of one container; see supervise/decide.ts. */
const containerStatus = z.object({
  serviceId: z.string(),
  memory: z.object({
    failures: z.number(),
    attempts: z.number(),
    notBefore: z.number(),
    restarts: z.number(),
  }),
  observed: z.enum(["missing", "stopped", "running"]),
  healthy: z.boolean().optional(),
  lastAction: z.string().optional(),
});
export type ContainerStatus = z.infer<typeof containerStatus>;

/** The supervisor's memory after its last pass, for `conductor status`. */
const supervisorStatus = z.object({
  updatedAt: z.number(),
  containers: z.record(z.string(), containerStatus),
});
export type SupervisorStatus = z.infer<typeof supervisorStatus>;

/**
 * Replicas the supervisor keeps out of nginx's rotation until they are
 * healthy (supervise/holds.ts): service id -> container name -> its host port
 * and when it was held. Written by the supervisor alone; read by the nginx
 * committer, which marks the held servers in every file it writes.
 */
const holdsRecord = z.record(
  z.string(),
  z.record(
    z.string(),
    z.object({
      port: z.number().int(),
      since: z.number(),
      /** Signalled to stop (a `kill` event), not seen stopped or started since. */
      stopping: z.boolean().optional(),
    }),
  ),
);
export type HoldsRecord = z.infer<typeof holdsRecord>;

const PRIVATE = 0o600;
const PUBLIC = 0o644;

export class HostStore {
  readonly containersDir: string;
  readonly releasesDir: string;
  readonly pausedDir: string;
  readonly locksDir: string;
  readonly supervisorStatusFile: string;
  readonly supervisorPidFile: string;
  readonly holdsFile: string;
  readonly saltFile: string;

  constructor(readonly root: string) {
    this.containersDir = path.join(root, "containers");
    this.releasesDir = path.join(root, "releases");
    this.pausedDir = path.join(root, "paused");
    this.locksDir = path.join(root, "locks");
    this.supervisorStatusFile = path.join(root, "supervisor.json");
    this.supervisorPidFile = path.join(root, "supervise.pid");
    this.holdsFile = path.join(root, "holds.json");
    this.saltFile = path.join(root, "salt");
  }

  // Ids are validated (protocol/rules.ts) and names are ours, so they are safe in paths.
  containerFile = (name: string) => path.join(this.containersDir, `${name}.json`);
  releaseFile = (serviceId: string) => path.join(this.releasesDir, `${serviceId}.json`);
  pausedFile = (serviceId: string) => path.join(this.pausedDir, serviceId);

  writeContainer(record: ContainerRecord): void {
    this.write(this.containerFile(record.name), JSON.stringify(record, null, 2), PRIVATE);
  }

  removeContainer(name: string): void {
    removeFile(this.containerFile(name));
  }

  readContainer(name: string): Read<ContainerRecord> {
    return readJson(this.containerFile(name), containerRecord, "a container record");
  }

  readContainers(): Listing<ContainerRecord> {
    return listJson(this.containersDir, containerRecord, "a container record");
  }

  writeRelease(release: ReleaseRecord): void {
    this.write(this.releaseFile(release.serviceId), JSON.stringify(release, null, 2), PRIVATE);
  }

  removeRelease(serviceId: string): void {
    removeFile(this.releaseFile(serviceId));
  }

  readRelease(serviceId: string): Read<ReleaseRecord> {
    return readJson(this.releaseFile(serviceId), releaseRecord, "a release");
  }

  readReleases(): Listing<ReleaseRecord> {
    return listJson(this.releasesDir, releaseRecord, "a release");
  }

  /** The ids of the services with a release here, readable or not. */
  releaseIds(): string[] {
    return listNames(this.releasesDir, ".json");
  }

  isPaused(serviceId: string): boolean {
    const file = this.pausedFile(serviceId);
    try {
      return fs.statSync(file, { throwIfNoEntry: false }) !== undefined;
    } catch (err) {
      throw new StoreError(unreadable(file, err));
    }
  }

  pause(serviceId: string, at: Date): void {
    this.write(this.pausedFile(serviceId), `${at.toISOString()}\n`, PUBLIC);
  }

  resume(serviceId: string): void {
    removeFile(this.pausedFile(serviceId));
  }

  readSupervisorStatus(): Read<SupervisorStatus> {
    return readJson(this.supervisorStatusFile, supervisorStatus, "the supervisor's status");
  }

  writeSupervisorStatus(status: SupervisorStatus): void {
    this.write(this.supervisorStatusFile, JSON.stringify(status), PRIVATE);
  }

  readSupervisorPid(): Read<number> {
    const text = readText(this.supervisorPidFile);
    if (text.status !== "ok") return text;
    const pid = Number(text.value.trim());
    if (Number.isInteger(pid) && pid > 0) return { status: "ok", value: pid };
    const message = `${this.supervisorPidFile} does not hold a process id`;
    return { status: "corrupt", file: this.supervisorPidFile, message };
  }

  writeSupervisorPid(pid: number): void {
    this.write(this.supervisorPidFile, `${pid}\n`, PUBLIC);
  }

  removeSupervisorPid(): void {
    removeFile(this.supervisorPidFile);
  }

  readHolds(): Read<HoldsRecord> {
    return readJson(this.holdsFile, holdsRecord, "the supervisor's holds");
  }

  writeHolds(holds: HoldsRecord): void {
    this.write(this.holdsFile, JSON.stringify(holds, null, 2), PRIVATE);
  }

  /**
   * A per-host secret, so container names can be derived from a spec that
   * holds secrets without revealing anything about them (naming.ts).
   */
  salt(): Buffer {
    this.ensureDir(this.root);
    try {
      return fs.readFileSync(this.saltFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new StoreError(unreadable(this.saltFile, err));
      }
    }
    // The first `container up`s on a host run in parallel: the salt appears
    // whole (a link of a finished file), and whoever links second takes the
    // first one's, so all of them name containers alike.
    const tmp = `${this.saltFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, crypto.randomBytes(32), { mode: PRIVATE });
    try {
      fs.linkSync(tmp, this.saltFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return fs.readFileSync(this.saltFile);
  }

  private write(file: string, content: string, mode: number): void {
    this.ensureDir(path.dirname(file));
    writeFileAtomic(file, content, mode);
  }

  private ensureDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

/** The host's store: CONDUCTOR_STATE_DIR (tests, other layouts) or /var/lib/conductor. */
export function defaultStore(env: NodeJS.ProcessEnv = process.env): HostStore {
  return new HostStore(env.CONDUCTOR_STATE_DIR ?? DEFAULT_STATE_DIR);
}
