// A small client for the Docker Engine API over its unix socket.
//
// Why not the `docker` CLI: a service's env must reach the container without a
// command line (ps) or Docker's env-file format (which cannot carry newlines),
// and env names such as DOCKER_HOST must not steer the client itself. The API
// takes env as a JSON array. Why not dockerode: we need a dozen calls, and it
// would pull ssh2 and optional native modules into the single-file `conductor`
// bundle that every host runs.
import * as http from "node:http";
import type { LoggingSpec, VolumeSpec } from "../protocol/requests";

const SOCKET = process.env.CONDUCTOR_DOCKER_SOCKET ?? "/var/run/docker.sock";

export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Response {
  status: number;
  body: Buffer;
}

function request(
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 120_000,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath: SOCKET,
        method,
        path,
        timeout: timeoutMs > 0 ? timeoutMs : undefined,
        headers: {
          ...extraHeaders,
          ...(payload && { "Content-Type": "application/json", "Content-Length": payload.length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    // timeoutMs 0: no timeout (waiting for a container to exit).
    if (timeoutMs > 0)
      req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
    req.on("error", (err) =>
      reject(new Error(`cannot reach the Docker daemon at ${SOCKET}: ${err.message}`)),
    );
    req.end(payload);
  });
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  ok: number[] = [200, 201, 204],
  timeoutMs?: number,
  headers?: Record<string, string>,
) {
  const res = await request(method, path, body, timeoutMs, headers);
  if (!ok.includes(res.status)) {
    let message = res.body.toString("utf8").trim();
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new DockerError(res.status, `docker ${method} ${path.split("?")[0]}: ${message}`);
  }
  return res;
}

export interface CreateOptions {
  name: string;
  image: string;
  command?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  stopTimeoutSeconds: number;
  /** container port -> host port on 127.0.0.1 */
  publish?: { containerPort: number; hostPort: number };
  /** For `conductor run`: a terminal, stdin kept open for attaching, removal on exit. */
  tty?: boolean;
  openStdin?: boolean;
  autoRemove?: boolean;
  volumes?: VolumeSpec[];
  memoryBytes?: number;
  cpus?: number;
  /** Absent: the daemon's default driver. */
  logging?: LoggingSpec;
  user?: string;
  /** Absent: the image's STOPSIGNAL, else SIGTERM. */
  stopSignal?: string;
}

/** HostConfig and Config fields of the service's runtime options; absent ones stay Docker's. */
function runtimeOf(o: CreateOptions) {
  return {
    config: { User: o.user, StopSignal: o.stopSignal },
    host: {
      // Binds, not Mounts: like `docker run -v`, a missing host path is created.
      Binds: o.volumes?.map((v) => `${v.source}:${v.target}${v.readOnly ? ":ro" : ""}`),
      Memory: o.memoryBytes,
      // The same as Memory: no swap on top, so the limit is what the app gets.
      MemorySwap: o.memoryBytes,
      NanoCpus: o.cpus === undefined ? undefined : Math.round(o.cpus * 1e9),
      LogConfig: o.logging && { Type: o.logging.driver, Config: o.logging.options },
    },
  };
}

/** The body of POST /containers/create (Engine API 1.41) for `o`. */
export function createBody(o: CreateOptions) {
  const port = o.publish ? `${o.publish.containerPort}/tcp` : undefined;
  const runtime = runtimeOf(o);
  return {
    ...runtime.config,
    Image: o.image,
    Cmd: o.command,
    Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
    Labels: o.labels,
    StopTimeout: o.stopTimeoutSeconds,
    ExposedPorts: port ? { [port]: {} } : undefined,
    Tty: o.tty ?? false,
    OpenStdin: o.openStdin ?? false,
    StdinOnce: o.openStdin ?? false,
    AttachStdin: o.openStdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      ...runtime.host,
      AutoRemove: o.autoRemove ?? false,
      PortBindings: port
        ? { [port]: [{ HostIp: "127.0.0.1", HostPort: String(o.publish!.hostPort) }] }
        : undefined,
      // conductor supervises containers itself (host/supervise/): no Docker restart policy.
      RestartPolicy: { Name: "no" },
    },
  };
}

export async function createContainer(o: CreateOptions): Promise<string> {
  const body = createBody(o);
  const res = await call("POST", `/containers/create?name=${encodeURIComponent(o.name)}`, body);
  return (JSON.parse(res.body.toString("utf8")) as { Id: string }).Id;
}

export async function startContainer(name: string): Promise<void> {
  await call("POST", `/containers/${encodeURIComponent(name)}/start`, undefined, [204, 304]);
}

/** Stop signal, then SIGKILL after `seconds`; a container that is already gone is fine. */
export async function stopContainer(name: string, seconds: number): Promise<void> {
  const timeout = (seconds + 30) * 1000;
  await call(
    "POST",
    `/containers/${encodeURIComponent(name)}/stop?t=${seconds}`,
    undefined,
    [204, 304, 404],
    timeout,
  );
}

/** Stop (signal, then SIGKILL after `seconds`) and start again, keeping name, port and spec. */
export async function restartContainer(name: string, seconds: number): Promise<void> {
  await call(
    "POST",
    `/containers/${encodeURIComponent(name)}/restart?t=${seconds}`,
    undefined,
    [204],
    (seconds + 30) * 1000,
  );
}

/** Sends a signal to the container's main process; a container already gone is fine. */
export async function killContainer(name: string, signal: string): Promise<void> {
  await call(
    "POST",
    `/containers/${encodeURIComponent(name)}/kill?signal=${signal}`,
    undefined,
    [204, 404, 409],
  );
}

/**
 * Waits for the container to exit (or, with "removed", to be removed after
 * exiting, for AutoRemove containers) and resolves to its exit code. Call it
 * before starting the container so the exit cannot be missed.
 */
export async function waitContainer(
  name: string,
  condition: "next-exit" | "removed",
): Promise<number> {
  const res = await call(
    "POST",
    `/containers/${encodeURIComponent(name)}/wait?condition=${condition}`,
    undefined,
    [200],
    0,
  );
  return (JSON.parse(res.body.toString("utf8")) as { StatusCode: number }).StatusCode;
}

/** Gone (404) or being removed by another conductor process (409 "already in progress") is done too. */
export async function removeContainer(name: string): Promise<void> {
  await call(
    "DELETE",
    `/containers/${encodeURIComponent(name)}?force=true&v=true`,
    undefined,
    [204, 404, 409],
  );
}

export interface ContainerState {
  name: string;
  status: string; // created, running, exited, ...
  exitCode: number;
  /** The kernel killed a process of it at its memory limit (State.OOMKilled). */
  oomKilled: boolean;
  labels: Record<string, string>;
}

export async function inspectContainer(name: string): Promise<ContainerState | undefined> {
  const res = await call(
    "GET",
    `/containers/${encodeURIComponent(name)}/json`,
    undefined,
    [200, 404],
  );
  if (res.status === 404) return undefined;
  const info = JSON.parse(res.body.toString("utf8")) as {
    Name: string;
    State: { Status: string; ExitCode: number; OOMKilled?: boolean };
    Config: { Labels: Record<string, string> | null };
  };
  return {
    name: info.Name.replace(/^\//, ""),
    status: info.State.Status,
    exitCode: info.State.ExitCode,
    oomKilled: info.State.OOMKilled === true,
    labels: info.Config.Labels ?? {},
  };
}

export interface ListedContainer {
  name: string;
  state: string;
  labels: Record<string, string>;
}

export async function listContainers(label: string): Promise<ListedContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const res = await call("GET", `/containers/json?all=true&filters=${filters}`);
  const rows = JSON.parse(res.body.toString("utf8")) as {
    Names: string[];
    State: string;
    Labels: Record<string, string>;
  }[];
  return rows.map((r) => ({
    name: r.Names[0].replace(/^\//, ""),
    state: r.State,
    labels: r.Labels,
  }));
}

export async function imageExists(ref: string): Promise<boolean> {
  const res = await call("GET", `/images/${encodeURIComponent(ref)}/json`, undefined, [200, 404]);
  return res.status === 200;
}

/**
 * The name Docker lists a repository under: Docker Hub's own prefixes
 * dropped, as the daemon stores them (`docker.io/library/x` is `x`,
 * `index.docker.io/acme/x` is `acme/x`). The `reference` filter of
 * /images/json and RepoTags know only this form: asked for
 * `docker.io/library/x`, the daemon lists nothing.
 */
export function dockerListsAs(repository: string): string {
  const path = repository.replace(/^(?:docker\.io|index\.docker\.io)\//, "");
  // A first part with a "." or ":" (or localhost) names another registry.
  const otherRegistry = path === repository && /^(?:[^/]*[.:][^/]*|localhost)\//.test(path);
  if (otherRegistry) return repository;
  return /^library\/[^/]+$/.test(path) ? path.slice("library/".length) : path;
}

/** The tags of a repository present on this host, e.g. the revisions of an app. */
export async function imageTags(repository: string): Promise<string[]> {
  const listed = dockerListsAs(repository);
  const filters = encodeURIComponent(JSON.stringify({ reference: [listed] }));
  const res = await call("GET", `/images/json?filters=${filters}`);
  const images = JSON.parse(res.body.toString("utf8")) as { RepoTags: string[] | null }[];
  return images
    .flatMap((i) => i.RepoTags ?? [])
    .filter((t) => t.startsWith(`${listed}:`))
    .map((t) => t.slice(listed.length + 1))
    .sort();
}

/** Credentials for one registry, as the Engine API takes them (types.AuthConfig). */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/**
 * URL-safe base64 *with* padding (Go's base64.URLEncoding): Docker 20.10
 * ignores an unpadded header and pulls anonymously (seen on the test fleet).
 */
export function registryAuthHeader(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth))
    .toString("base64")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}

/**
 * Pulls an image; the API streams progress as JSON lines and reports failure
 * in-band. Credentials go in X-Registry-Auth (base64url JSON): the Engine does
 * not read the docker CLI's ~/.docker/config.json.
 */
export async function pullImage(repository: string, tag: string, auth?: RegistryAuth) {
  const query = `fromImage=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`;
  const headers = auth ? { "X-Registry-Auth": registryAuthHeader(auth) } : undefined;
  const res = await call("POST", `/images/create?${query}`, undefined, [200], 30 * 60_000, headers);
  for (const line of res.body.toString("utf8").split("\n")) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as { error?: string };
    if (event.error) throw new DockerError(500, `docker pull ${repository}:${tag}: ${event.error}`);
  }
}

/** The last lines a container wrote to stdout and stderr, interleaved. */
export async function containerLogs(name: string, tail: number): Promise<string> {
  const res = await call(
    "GET",
    `/containers/${encodeURIComponent(name)}/logs?stdout=true&stderr=true&tail=${tail}`,
    undefined,
    [200, 404],
  );
  return res.status === 404 ? "" : demultiplex(res.body);
}

/** Everything a (finished) container wrote to one stream. */
export async function containerOutput(name: string, stream: "stdout" | "stderr"): Promise<string> {
  const res = await call(
    "GET",
    `/containers/${encodeURIComponent(name)}/logs?${stream}=true`,
    undefined,
    [200],
  );
  return demultiplex(res.body);
}

/** Docker frames non-TTY log streams as [stream, 0, 0, 0, size(4 bytes BE)] + payload. */
export function demultiplex(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

export interface ExecOutcome {
  /** Undefined when it did not exit within the timeout (it is killed then). */
  exitCode?: number;
  /** What it wrote to stdout and stderr, interleaved. */
  output: string;
}

const TIMED_OUT = Symbol("timed out");

/**
 * Runs `command` in a running container, like `docker exec`, and waits at
 * most `timeoutMs` for it to exit. A command still running then is killed:
 * the Engine API has no call that ends an exec, so it is killed by the pid
 * Docker reports (a host pid), as Docker's own HEALTHCHECK would end it.
 */
export async function execInContainer(
  name: string,
  command: string[],
  timeoutMs: number,
): Promise<ExecOutcome> {
  const created = await call(
    "POST",
    `/containers/${encodeURIComponent(name)}/exec`,
    { Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false },
    [201],
  );
  const { Id: id } = JSON.parse(created.body.toString("utf8")) as { Id: string };
  // The whole run is timed, not the socket's idle time: output must not extend it.
  const started = call("POST", `/exec/${id}/start`, { Detach: false, Tty: false }, [200], 0);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>(
    (r) => (timer = setTimeout(r, timeoutMs, TIMED_OUT)),
  );
  const res = await Promise.race([started, timeout]).finally(() => clearTimeout(timer));
  if (res === TIMED_OUT) {
    started.catch(() => undefined);
    const { pid } = await inspectExec(id);
    if (pid > 0) killQuietly(pid);
    return { output: "" };
  }
  return { exitCode: await exitCodeOf(id), output: demultiplex(res.body) };
}

async function inspectExec(
  id: string,
): Promise<{ running: boolean; exitCode: number | null; pid: number }> {
  const res = await call("GET", `/exec/${id}/json`);
  const info = JSON.parse(res.body.toString("utf8")) as {
    Running: boolean;
    ExitCode: number | null;
    Pid: number;
  };
  return { running: info.Running, exitCode: info.ExitCode, pid: info.Pid };
}

/** The stream can end a moment before Docker records the exit code. */
async function exitCodeOf(id: string): Promise<number> {
  for (let i = 0; ; i++) {
    const info = await inspectExec(id);
    if (!info.running && info.exitCode !== null) return info.exitCode;
    if (i >= 20) throw new Error(`docker exec ${id}: no exit code after its output ended`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // it exited meanwhile
  }
}

/** One container event of the Engine API's /events stream. */
export interface DockerEvent {
  /** die, oom, destroy, start, "health_status: unhealthy", ... */
  action: string;
  /** The container's name. */
  name: string;
  /** The container's labels (and Docker's attributes, such as exitCode). */
  attributes: Record<string, string>;
}

export interface EventFilters {
  /** Labels the container must carry, e.g. ["conductor.service"]. */
  label: string[];
  /** Actions, e.g. ["die", "oom"]. */
  event: string[];
}

export interface EventHandlers {
  /** The daemon answered: events from now on arrive. */
  onOpen(): void;
  onEvent(event: DockerEvent): void;
}

/**
 * Follows GET /events for containers until the daemon closes the stream (it
 * stopped, or restarts) or `signal` aborts it; resolves then, and rejects when
 * the daemon cannot be reached or refuses. No timeout: the stream is idle
 * for as long as nothing happens.
 */
export function streamEvents(
  filters: EventFilters,
  handlers: EventHandlers,
  signal: AbortSignal,
): Promise<void> {
  const query = encodeURIComponent(JSON.stringify({ type: ["container"], ...filters }));
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", abort);
      if (err) reject(err);
      else resolve();
    };
    const req = http.request({
      socketPath: SOCKET,
      method: "GET",
      path: `/events?filters=${query}`,
    });
    const abort = () => {
      req.destroy();
      settle();
    };
    signal.addEventListener("abort", abort);
    if (signal.aborted) return abort();
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return settle(
          new DockerError(res.statusCode ?? 0, `docker GET /events: ${res.statusCode}`),
        );
      }
      handlers.onOpen();
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) handlers.onEvent(eventOf(line));
      });
      // A daemon killed mid-stream resets the connection: an end like any other.
      res.on("error", () => settle());
      res.on("close", () => settle());
    });
    req.on("error", (err) =>
      settle(new Error(`cannot reach the Docker daemon at ${SOCKET}: ${err.message}`)),
    );
    req.end();
  });
}

/** One JSON line of /events (events.Message) as a DockerEvent. */
export function eventOf(line: string): DockerEvent {
  const m = JSON.parse(line) as {
    Action?: string;
    status?: string;
    Actor?: { Attributes?: Record<string, string> };
  };
  const attributes = m.Actor?.Attributes ?? {};
  return { action: m.Action ?? m.status ?? "", name: attributes.name ?? "", attributes };
}

/** The calls conductor makes, as one object: the host handlers take it as an effect (effects.ts). */
export interface DockerClient {
  createContainer: typeof createContainer;
  startContainer: typeof startContainer;
  stopContainer: typeof stopContainer;
  restartContainer: typeof restartContainer;
  killContainer: typeof killContainer;
  waitContainer: typeof waitContainer;
  removeContainer: typeof removeContainer;
  inspectContainer: typeof inspectContainer;
  listContainers: typeof listContainers;
  imageExists: typeof imageExists;
  imageTags: typeof imageTags;
  pullImage: typeof pullImage;
  containerLogs: typeof containerLogs;
  containerOutput: typeof containerOutput;
  execInContainer: typeof execInContainer;
  streamEvents: typeof streamEvents;
}

export const dockerClient: DockerClient = {
  createContainer,
  startContainer,
  stopContainer,
  restartContainer,
  killContainer,
  waitContainer,
  removeContainer,
  inspectContainer,
  listContainers,
  imageExists,
  imageTags,
  pullImage,
  containerLogs,
  containerOutput,
  execInContainer,
  streamEvents,
};
