/**
 * The fleet as the rest of conductor sees it: validated, defaults applied, durations in ms.
 * Nothing here knows about zod or Pulumi, so components and the host command can share it.
 */

/** What the Pulumi program reads from stack config, untouched. */
export interface RawFleetInput {
  project: string;
  stack: string;
  app?: unknown;
  revision?: unknown;
  hosts?: unknown;
  services?: unknown;
  registries?: unknown;
  /**
   * Every key set in the conductor namespace, without the "conductor:" prefix,
   * so that a typo (`revison`) is an error instead of being ignored.
   */
  keys?: readonly string[];
  /** Full config keys that are secret, e.g. "conductor:services". */
  secretKeys: ReadonlySet<string>;
}

export interface Fleet {
  app: string;
  stack: string;
  /** Absent only when every service sets its own revision. */
  revision?: string;
  hosts: Host[];
  services: Service[];
  /** Credentials per registry server; images of other registries are pulled anonymously. */
  registries: Registry[];
}

export interface Registry {
  /** As Docker names it: `registry.example.com`, `10.0.0.5:5000`, `docker.io`. */
  server: string;
  username: string;
  /** Always from a secret config value. */
  password: string;
}

export interface Host {
  name: string;
  address: string;
  /** address "local": the machine running pulumi, reached without SSH. */
  local: boolean;
  user: string;
  port: number;
}

export interface HealthCheck {
  path: string;
  timeoutMs: number;
  intervalMs: number;
  deadlineMs: number;
}

export interface Nginx {
  listen: number;
  serverName: string;
}

export interface Http {
  port: number;
  healthCheck: HealthCheck;
  nginx?: Nginx;
}

/** A check run in the container: for services without http. */
export interface CommandCheck {
  command: string[];
  timeoutMs: number;
  intervalMs: number;
  deadlineMs: number;
}

/** `uploads:/app/uploads` or `/srv/certs:/certs:ro`. */
export interface Volume {
  /** A Docker volume name, or an absolute host path. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface Resources {
  memoryBytes?: number;
  cpus?: number;
}

export interface Logging {
  driver: string;
  options: Record<string, string>;
}

export interface Cron {
  generate: string[];
  allowOverlap: boolean;
}

/** Run once per new revision, before any of its containers starts (README: "Migrations (predeploy)"). */
export interface Predeploy {
  command: string[];
  timeoutMs: number;
}

export interface Service {
  /** The key under conductor:services. */
  name: string;
  /** `${app}_${name}_${stack}`: names containers, the nginx file, the cron file. */
  id: string;
  /** Repository without tag; the tag deployed is `revision`. */
  image: string;
  /** The registry server `image` is pulled from, as Docker decides it (checks.ts registryOf). */
  registry: string;
  revision: string;
  command?: string[];
  hosts: string[];
  replicas: number;
  http?: Http;
  stopTimeoutMs: number;
  env: Record<string, string>;
  /** conductor:services is a secret key, so no env value may be shown. */
  envIsSecret: boolean;
  cron?: Cron;
  predeploy?: Predeploy;
  supervise: boolean;
  /** Services without http only. */
  healthCheck?: CommandCheck;
  volumes?: Volume[];
  resources?: Resources;
  /** Always set: DEFAULTS.logging when the config gives none. */
  logging: Logging;
  user?: string;
  stopSignal?: string;
  labels?: Record<string, string>;
}

/** `path` is printable as is: "conductor:services.app.http.port", or "stack". */
export interface Issue {
  path: string;
  message: string;
}

export type LoadResult = { ok: true; fleet: Fleet } | { ok: false; issues: Issue[] };
