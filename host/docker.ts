// A small client for the Docker Engine API over its unix socket.
//
// Why not the `docker` CLI: a service's env must reach the container without a
// command line (ps) or Docker's env-file format (which cannot carry newlines),
// and env names such as DOCKER_HOST must not steer the client itself. The API
// takes env as a JSON array. Why not dockerode: we need eight calls, and it
// would pull ssh2 and optional native modules into the single-file `conductor`
// bundle that every host runs.
import * as http from "node:http";

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
}

export async function createContainer(o: CreateOptions): Promise<string> {
  const port = o.publish ? `${o.publish.containerPort}/tcp` : undefined;
  const body = {
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
      AutoRemove: o.autoRemove ?? false,
      PortBindings: port
        ? { [port]: [{ HostIp: "127.0.0.1", HostPort: String(o.publish!.hostPort) }] }
        : undefined,
      // conductor supervises containers itself (host/supervise/): no Docker restart policy.
      RestartPolicy: { Name: "no" },
    },
  };
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

export async function removeContainer(name: string): Promise<void> {
  await call(
    "DELETE",
    `/containers/${encodeURIComponent(name)}?force=true&v=true`,
    undefined,
    [204, 404],
  );
}

export interface ContainerState {
  name: string;
  status: string; // created, running, exited, ...
  exitCode: number;
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
    State: { Status: string; ExitCode: number };
    Config: { Labels: Record<string, string> | null };
  };
  return {
    name: info.Name.replace(/^\//, ""),
    status: info.State.Status,
    exitCode: info.State.ExitCode,
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

/** The tags of a repository present on this host, e.g. the revisions of an app. */
export async function imageTags(repository: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ reference: [repository] }));
  const res = await call("GET", `/images/json?filters=${filters}`);
  const images = JSON.parse(res.body.toString("utf8")) as { RepoTags: string[] | null }[];
  return images
    .flatMap((i) => i.RepoTags ?? [])
    .filter((t) => t.startsWith(`${repository}:`))
    .map((t) => t.slice(repository.length + 1))
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
};
