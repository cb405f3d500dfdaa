// The contract between the deploy and the hosts: each subcommand of the host
// command that the provider calls, the JSON request it reads on stdin and the
// JSON answer it prints. The provider builds requests of these types; the host
// command validates each one with these schemas before acting, and the
// provider validates each answer, so a change to either side that the other
// does not know fails loudly, naming the field.
import { z } from "zod";
import { REVISION, REVISION_RULE, SERVICE_ID } from "./rules";

const serviceId = z.string().regex(SERVICE_ID, "expected a service id such as acme_web_production");
const revision = z.string().regex(REVISION, `expected ${REVISION_RULE}`);
/** Docker's rule for container names. */
const containerName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "expected a container name");
const repository = z.string().min(1);
const milliseconds = z.number().int().min(0);
const argv = z.array(z.string());
/** Values may hold any text but NUL (the Docker API takes them as JSON). */
const env = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"),
  z.string().refine((v) => !v.includes("\0"), "a value cannot contain NUL"),
);

export const healthCheckSpec = z.strictObject({
  path: z.string().startsWith("/"),
  timeoutMs: milliseconds,
  intervalMs: milliseconds,
  deadlineMs: milliseconds,
});
export type HealthCheckSpec = z.infer<typeof healthCheckSpec>;

/** A command run in the container (Docker exec): exit 0 within the timeout is healthy. */
export const commandCheckSpec = z.strictObject({
  command: argv.min(1),
  timeoutMs: milliseconds,
  intervalMs: milliseconds,
  deadlineMs: milliseconds,
});
export type CommandCheckSpec = z.infer<typeof commandCheckSpec>;

/** Docker Binds are `source:target[:ro]`, so neither side may hold ":" or ",". */
const bindPart = z.string().regex(/^[^:,\0]+$/, 'expected a path or name without ":" or ","');

/** A named Docker volume (`uploads`) or an absolute host path, mounted at `target`. */
export const volumeSpec = z.strictObject({
  source: bindPart,
  target: bindPart.startsWith("/"),
  readOnly: z.boolean(),
});
export type VolumeSpec = z.infer<typeof volumeSpec>;

export const loggingSpec = z.strictObject({
  driver: z.string().min(1),
  options: z.record(z.string(), z.string()),
});
export type LoggingSpec = z.infer<typeof loggingSpec>;

/**
 * Docker's json-file driver without options never rotates, so a chatty
 * service fills the disk (issue 14). json-file with max-size/max-file rotates
 * at 10 MB, keeps at most 5 files (50 MB per container), and still serves
 * `docker logs` and the deploy's "last 30 log lines".
 */
export const DEFAULT_LOGGING: LoggingSpec = {
  driver: "json-file",
  options: { "max-size": "10m", "max-file": "5" },
};

/** Labels conductor sets itself (host/store.ts LABELS) all start with this. */
export const CONDUCTOR_LABEL_PREFIX = "conductor.";

/**
 * How a service's containers run beyond image, command and env: for its
 * deployed containers and, through the release, its `conductor run` one-offs.
 */
export const runtimeShape = {
  volumes: z.array(volumeSpec).optional(),
  resources: z
    .strictObject({
      /** Docker's minimum is 6 MiB. */
      memoryBytes: z
        .number()
        .int()
        .min(6 * 1024 * 1024)
        .optional(),
      cpus: z.number().positive().optional(),
    })
    .optional(),
  user: z.string().min(1).optional(),
  stopSignal: z
    .string()
    .regex(/^SIG[A-Z0-9+-]+$/, "expected a signal name such as SIGQUIT")
    .optional(),
  labels: z
    .record(
      z.string().refine((k) => k !== "" && !k.startsWith(CONDUCTOR_LABEL_PREFIX), {
        error: `expected a label name not starting with "${CONDUCTOR_LABEL_PREFIX}"`,
      }),
      z.string(),
    )
    .optional(),
};

/** Everything that decides what a deployed container runs; its fingerprint names it. */
export const containerSpec = z.strictObject({
  serviceId,
  /** Replica slot on this host, part of the container name. */
  slot: z.number().int().min(0),
  image: repository,
  revision,
  command: argv.optional(),
  env,
  http: z
    .strictObject({ port: z.number().int().min(1).max(65535), healthCheck: healthCheckSpec })
    .optional(),
  /** Services without http only: http services are checked over HTTP. */
  healthCheck: commandCheckSpec.optional(),
  stopTimeoutMs: milliseconds,
  ...runtimeShape,
  /** Absent in records of containers deployed before it existed: Docker's daemon default. */
  logging: loggingSpec.optional(),
});
export type ContainerSpec = z.infer<typeof containerSpec>;

export const startedContainer = z.strictObject({
  name: containerName,
  /** Host port on 127.0.0.1, fixed for the container's life (moby/moby#31926). */
  hostPort: z.number().int().min(1).max(65535).optional(),
});
export type StartedContainer = z.infer<typeof startedContainer>;

export const containerStopRequest = z.strictObject({
  serviceId,
  name: containerName,
  stopTimeoutMs: milliseconds,
});
export type ContainerStopRequest = z.infer<typeof containerStopRequest>;

export const nginxApplyRequest = z.strictObject({ serviceId, config: z.string() });
export type NginxApplyRequest = z.infer<typeof nginxApplyRequest>;

/** Removing one of a service's files or records names only the service. */
export const serviceRequest = z.strictObject({ serviceId });
export type ServiceRequest = z.infer<typeof serviceRequest>;

/**
 * A service's release on a host: what it runs (for `conductor run` and cron,
 * also when it has no long-running containers) and the containers of the
 * current deploy; applying it stops the service's other containers.
 */
export const releaseRequest = z.strictObject({
  serviceId,
  image: repository,
  revision,
  command: argv.optional(),
  env,
  containers: z.array(containerName),
  supervise: z.boolean(),
  ...runtimeShape,
});
export type ReleaseRequest = z.infer<typeof releaseRequest>;

/** Install the service's cron file: run `generate` in the new revision, wrap its crontab. */
export const cronInstallRequest = z.strictObject({
  serviceId,
  image: repository,
  revision,
  env,
  generate: argv.min(1),
  allowOverlap: z.boolean(),
});
export type CronInstallRequest = z.infer<typeof cronInstallRequest>;

/** The SHA-256 of a cron file as written or read; refresh compares the two. */
const fileSha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** How many jobs the file has, and the SHA-256 of the file as written. */
export const cronInstalled = z.strictObject({ jobs: z.number().int().min(0), sha256: fileSha256 });

/**
 * The image of a revision on a host, pulled if missing. `registry` is the
 * server Docker pulls it from (config/checks.ts registryOf); `auth` its
 * credentials from conductor:registries, if it has an entry.
 */
export const imagePullRequest = z.strictObject({
  serviceId,
  image: repository,
  revision,
  registry: z.string().min(1),
  auth: z.strictObject({ username: z.string().min(1), password: z.string().min(1) }).optional(),
});
export type ImagePullRequest = z.infer<typeof imagePullRequest>;

export const imagePulled = z.strictObject({ pulled: z.boolean() });

/**
 * The service's predeploy command (README: "Migrations (predeploy)"), run in
 * a throwaway container of the new revision with the service's env and
 * runtime, killed at `timeoutMs`.
 */
export const predeployRequest = z.strictObject({
  serviceId,
  image: repository,
  revision,
  env,
  command: argv.min(1),
  timeoutMs: milliseconds.min(1),
  ...runtimeShape,
});
export type PredeployRequest = z.infer<typeof predeployRequest>;

/** The last lines of what it printed, stdout and stderr. */
export const predeployRan = z.strictObject({ output: z.string() });

/** The answer of commands that only report success. */
export const done = z.strictObject({});

const count = z.number().int().min(0);

/** One service on a host as `conductor status` sees it (host/supervise/status.ts). */
export const serviceStatus = z.strictObject({
  /** The service id; of a release file that cannot be read, its file name. */
  id: z.string().min(1),
  /** "-" when the release cannot be read. */
  revision: z.string(),
  supervision: z.enum(["active", "paused", "off", "unknown"]),
  desired: count,
  running: count,
  healthy: count,
  containers: z.array(
    z.strictObject({
      name: z.string(),
      state: z.string(),
      /** Absent for containers without an http health check, or not running. */
      healthy: z.boolean().optional(),
      restarts: count,
      backoffUntil: z.string().optional(),
    }),
  ),
  /** Files of the service the host cannot read. */
  problems: z.array(z.string()),
});
export type ServiceStatus = z.infer<typeof serviceStatus>;

/** Every service on the host, for `npx conductor status`. */
export const statusReport = z.strictObject({ services: z.array(serviceStatus) });

/** The tags of a repository present on the host, for `npx conductor releases`. */
export const imageListRequest = z.strictObject({ serviceId, image: repository });
export const imageList = z.strictObject({ tags: z.array(z.string()) });

// What `pulumi refresh` asks a host (the provider's `read`, README: "Drift and
// `pulumi refresh`"): what it really has of one resource, changing nothing.

/** One deployed container: Docker's state ("running", "exited", ...), or none. */
export const containerReadRequest = z.strictObject({ serviceId, name: containerName });
export const containerRead = z.strictObject({
  container: z
    .strictObject({
      state: z.string().min(1),
      /** From its conductor.port label: the port it was created with. */
      hostPort: z.number().int().min(1).max(65535).optional(),
    })
    .nullable(),
});

/** The service's nginx file as it is on disk; null when there is none. */
export const nginxRead = z.strictObject({ config: z.string().nullable() });

/** The SHA-256 of the service's cron file as it is on disk; null when there is none. */
export const cronRead = z.strictObject({ sha256: fileSha256.nullable() });

/**
 * The service's release record: null when there is none; `problem` says why a
 * file that is there is not a release conductor writes (corrupt, edited).
 */
export const releaseRead = z.strictObject({
  release: releaseRequest.nullable(),
  problem: z.string().optional(),
});

/**
 * Whether the host has the image of a revision: Docker is asked for that exact
 * reference and resolves the name itself, so `docker.io/library/nginx` finds
 * the image Docker lists as `nginx` (a filter on listed tags would not).
 */
export const imageReadRequest = z.strictObject({ serviceId, image: repository, revision });
export const imageRead = z.strictObject({ present: z.boolean() });

/**
 * Every subcommand the deploy (and `npx conductor`, for what it reads) runs on
 * a host, with its request and answer.
 */
export const HOST_COMMANDS = {
  "image pull": { request: imagePullRequest, answer: imagePulled },
  "container up": { request: containerSpec, answer: startedContainer },
  "container down": { request: containerStopRequest, answer: done },
  "nginx apply": { request: nginxApplyRequest, answer: done },
  "nginx remove": { request: serviceRequest, answer: done },
  "release apply": { request: releaseRequest, answer: done },
  "release remove": { request: serviceRequest, answer: done },
  "cron install": { request: cronInstallRequest, answer: cronInstalled },
  "cron remove": { request: serviceRequest, answer: done },
  "predeploy run": { request: predeployRequest, answer: predeployRan },
  "status report": { request: done, answer: statusReport },
  "image list": { request: imageListRequest, answer: imageList },
  "container read": { request: containerReadRequest, answer: containerRead },
  "nginx read": { request: serviceRequest, answer: nginxRead },
  "cron read": { request: serviceRequest, answer: cronRead },
  "release read": { request: serviceRequest, answer: releaseRead },
  "image read": { request: imageReadRequest, answer: imageRead },
} as const;

export type HostCommand = keyof typeof HOST_COMMANDS;
export type RequestOf<C extends HostCommand> = z.infer<(typeof HOST_COMMANDS)[C]["request"]>;
export type AnswerOf<C extends HostCommand> = z.infer<(typeof HOST_COMMANDS)[C]["answer"]>;

export const isHostCommand = (key: string): key is HostCommand => Object.hasOwn(HOST_COMMANDS, key);

/** `container up` -> ["container", "up"]: the argv of the host command. */
export const argvOf = (command: HostCommand): string[] => command.split(" ");

export class ProtocolError extends Error {}

/**
 * Checks a request or an answer against its schema. Messages name the field
 * and what was expected, never the value: values may be secrets.
 */
export function check(schema: z.ZodType, value: unknown, what: string): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.join(".") : "(the whole value)"}: ${i.message}`,
  );
  throw new ProtocolError(`${what}: ${problems.join("; ")}`);
}

export function checkRequest<C extends HostCommand>(command: C, value: unknown): RequestOf<C> {
  return check(
    HOST_COMMANDS[command].request,
    value,
    `invalid request for conductor ${command}`,
  ) as RequestOf<C>;
}

export function checkAnswer<C extends HostCommand>(command: C, value: unknown): AnswerOf<C> {
  return check(
    HOST_COMMANDS[command].answer,
    value,
    `unexpected answer from conductor ${command}`,
  ) as AnswerOf<C>;
}
