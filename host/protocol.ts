// The messages the deploy sends to `conductor` on a host, as JSON on stdin.
// Shared by the Pulumi provider (which writes them) and the host command
// (which reads them), so the two cannot drift apart.

export interface HealthCheckSpec {
  path: string;
  timeoutMs: number;
  intervalMs: number;
  deadlineMs: number;
}

export interface ContainerSpec {
  serviceId: string;
  /** Replica slot on this host, part of the container name. */
  slot: number;
  image: string;
  revision: string;
  command?: string[];
  env: Record<string, string>;
  http?: { port: number; healthCheck: HealthCheckSpec };
  stopTimeoutMs: number;
}

/** What `conductor container up` prints on success. */
export interface StartedContainer {
  name: string;
  /** Host port on 127.0.0.1, fixed for the container's life (moby/moby#31926). */
  hostPort?: number;
}

export interface ContainerStopRequest {
  serviceId: string;
  name: string;
  stopTimeoutMs: number;
}

export interface NginxApplyRequest {
  serviceId: string;
  config: string;
}

export interface NginxRemoveRequest {
  serviceId: string;
}

/**
 * A service's release on a host: what it runs (for `conductor run` and cron,
 * also when it has no long-running containers) and the containers of the
 * current deploy.
 */
export interface ReleaseRequest {
  serviceId: string;
  image: string;
  revision: string;
  command?: string[];
  env: Record<string, string>;
  containers: string[];
  supervise: boolean;
}

export interface ReleaseRemoveRequest {
  serviceId: string;
}

/** Install the service's cron file: run `generate` in the new revision, wrap its crontab. */
export interface CronInstallRequest {
  serviceId: string;
  image: string;
  revision: string;
  env: Record<string, string>;
  generate: string[];
  allowOverlap: boolean;
}

export interface CronRemoveRequest {
  serviceId: string;
}
