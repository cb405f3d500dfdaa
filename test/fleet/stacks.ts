// Helpers for end-to-end scenarios on the test fleet: a conductor stack whose
// config points at the fleet's hosts and registry, images put where the hosts
// find them, what a host holds for a service (containers, nginx file, release
// record), and a load through the front LB bounded in time and count.
import { curlGet, parseCurlGet } from "../e2e/docker";
import { run, type RunResult, TestStack } from "../e2e/harness";
import { type LoadReport, startLoad } from "../e2e/load";
import type { Fleet } from "./fleet";

/** The repository services deploy; the tag is the revision. */
export const REPOSITORY = "conductor/hello";

export interface ServiceOptions {
  revision: string;
  replicas: number;
  /** The service's hosts; default: every host of the stack. */
  hosts?: string[];
  /** nginx listen port on each host; default 80 (the one the front LB reaches). */
  listen?: number;
}

export interface StackOptions {
  /** conductor:hosts; default: every fleet host. */
  hosts?: string[];
  services: Record<string, ServiceOptions>;
}

export const imageOf = (fleet: Fleet) => `${fleet.registry.address}/${REPOSITORY}`;

/** A stack of conductor deploying to the fleet, with the SSH key and registry password as secrets. */
export class FleetStack {
  private constructor(
    readonly fleet: Fleet,
    readonly stack: TestStack,
    readonly app: string,
  ) {}

  static async create(fleet: Fleet, name: string, app: string): Promise<FleetStack> {
    const stack = await TestStack.create(name);
    await stack.setSecret("conductor:sshPrivateKey", fleet.privateKey);
    const s = new FleetStack(fleet, stack, app);
    await s.setRegistryPassword(fleet.registry.password);
    return s;
  }

  get name(): string {
    return this.stack.name;
  }

  /** The service id conductor names everything on a host by. */
  id(service: string): string {
    return `${this.app}_${service}_${this.stack.name}`;
  }

  setRegistryPassword(password: string): Promise<void> {
    return this.stack.setSecret(
      `conductor:registries["${this.fleet.registry.address}"].password`,
      password,
    );
  }

  config(options: StackOptions): Record<string, unknown> {
    const hosts = options.hosts ?? this.fleet.hosts.map((h) => h.name);
    return {
      "conductor:app": this.app,
      "conductor:hosts": Object.fromEntries(
        hosts.map((name) => [
          name,
          { address: "127.0.0.1", port: this.fleet.host(name).sshPort, user: "root" },
        ]),
      ),
      "conductor:registries": {
        [this.fleet.registry.address]: { username: this.fleet.registry.username },
      },
      "conductor:services": Object.fromEntries(
        Object.entries(options.services).map(([name, s]) => [
          name,
          {
            image: imageOf(this.fleet),
            revision: s.revision,
            replicas: s.replicas,
            ...(s.hosts ? { hosts: s.hosts } : {}),
            http: {
              port: 8080,
              healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "15s" },
              nginx: { listen: s.listen ?? 80 },
            },
            stopTimeout: "10s",
          },
        ]),
      ),
    };
  }

  /** What the last deploy printed. */
  lastOutput = "";

  /** Writes the config and runs `pulumi up`; how long it took. */
  async deploy(options: StackOptions): Promise<{ result: RunResult; ms: number }> {
    await this.stack.writeConfig(this.config(options));
    const started = Date.now();
    const result = await this.stack.up();
    this.lastOutput = result.output;
    return { result, ms: Date.now() - started };
  }

  async deployOk(options: StackOptions): Promise<number> {
    const { result, ms } = await this.deploy(options);
    if (result.code !== 0) throw new Error(`pulumi up failed (${result.code}):\n${result.output}`);
    return ms;
  }
}

// ---------------------------------------------------------------------------
// Images

/** Builds conductor-hello:<revision> (or <repository>:<revision>) on this machine. */
export async function buildHello(
  revision: string,
  options: { variant?: "--unhealthy" | "--crash-at-boot"; repository?: string } = {},
): Promise<string> {
  const repository = options.repository ?? "conductor-hello";
  const r = await run(
    "bash",
    ["examples/hello/build.sh", revision, ...(options.variant ? [options.variant] : [])],
    {
      cwd: `${__dirname}/../..`,
      env: { ...process.env, IMAGE_REPOSITORY: repository },
    },
  );
  if (r.code !== 0) throw new Error(`building ${repository}:${revision} failed:\n${r.output}`);
  return `${repository}:${revision}`;
}

/**
 * Puts a local image into the given hosts under the name the service deploys
 * (registry:5000/conductor/hello:<tag>), as if pulled: a present image is not
 * pulled again.
 */
export async function loadAs(
  fleet: Fleet,
  localRef: string,
  tag: string,
  hosts: string[] = fleet.hosts.map((h) => h.name),
): Promise<void> {
  const ref = `${imageOf(fleet)}:${tag}`;
  const tagged = await run("docker", ["tag", localRef, ref]);
  if (tagged.code !== 0) throw new Error(`docker tag ${localRef} ${ref}:\n${tagged.output}`);
  try {
    await fleet.loadImage(ref, hosts);
  } finally {
    await run("docker", ["image", "rm", ref]); // the tag only
  }
}

/**
 * FLEET_PRELOAD_IMAGES=1: also load each published image into every host, so
 * that conductor finds it there and does not pull. A diagnostic mode, for
 * seeing the other scenarios while conductor's pulls are broken; the real
 * path, and the default, is the registry.
 */
export const PRELOAD = process.env.FLEET_PRELOAD_IMAGES === "1";

/** Makes conductor-hello:<revision> deployable: pushed to the registry once; every host pulls it. */
export async function publish(
  fleet: Fleet,
  revision: string,
  options: { preload?: boolean } = {},
): Promise<void> {
  await fleet.pushImage(`conductor-hello:${revision}`, REPOSITORY, revision);
  if (options.preload ?? PRELOAD) await loadAs(fleet, `conductor-hello:${revision}`, revision);
}

// ---------------------------------------------------------------------------
// What a host holds for a service

export interface HostContainer {
  name: string;
  state: string;
  image: string;
  port: number | undefined;
}

export interface Release {
  serviceId: string;
  image: string;
  revision: string;
  containers: string[];
  supervise: boolean;
}

export interface HostState {
  containers: HostContainer[];
  /** /etc/nginx/conf.d/conductor-<id>.conf, or null when there is none. */
  nginx: string | null;
  /** /var/lib/conductor/releases/<id>.json, or null when there is none. */
  release: Release | null;
}

export const nginxPath = (id: string) => `/etc/nginx/conf.d/conductor-${id}.conf`;
export const releasePath = (id: string) => `/var/lib/conductor/releases/${id}.json`;

export async function containersOf(
  fleet: Fleet,
  host: string,
  id: string,
): Promise<HostContainer[]> {
  const r = await fleet.docker(host, [
    "ps",
    "-a",
    "--filter",
    `label=conductor.service=${id}`,
    "--format",
    '{{.Names}}\t{{.State}}\t{{.Image}}\t{{.Label "conductor.port"}}',
  ]);
  if (r.code !== 0) throw new Error(`${host}: docker ps failed:\n${r.output}`);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, state, image, port] = line.split("\t");
      return { name, state, image, port: port ? Number(port) : undefined };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function readFile(fleet: Fleet, host: string, file: string): Promise<string | null> {
  const r = await fleet.exec(host, [
    "sh",
    "-c",
    'if [ -e "$1" ]; then cat "$1"; else exit 44; fi',
    "-",
    file,
  ]);
  if (r.code === 44) return null;
  if (r.code !== 0) throw new Error(`${host}: reading ${file} failed:\n${r.output}`);
  return r.stdout;
}

export async function hostState(fleet: Fleet, host: string, id: string): Promise<HostState> {
  const [containers, nginx, release] = await Promise.all([
    containersOf(fleet, host, id),
    readFile(fleet, host, nginxPath(id)),
    readFile(fleet, host, releasePath(id)),
  ]);
  return { containers, nginx, release: release === null ? null : (JSON.parse(release) as Release) };
}

export async function fleetState(
  fleet: Fleet,
  id: string,
  hosts: string[] = fleet.hosts.map((h) => h.name),
): Promise<Record<string, HostState>> {
  const states = await Promise.all(hosts.map((h) => hostState(fleet, h, id)));
  return Object.fromEntries(hosts.map((h, i) => [h, states[i]]));
}

/** Every container of the host's Docker (any label): name and state, for before/after comparisons. */
export async function allContainers(fleet: Fleet, host: string): Promise<string[]> {
  const r = await fleet.docker(host, ["ps", "-a", "--format", "{{.Names}} {{.Image}} {{.State}}"]);
  if (r.code !== 0) throw new Error(`${host}: docker ps failed:\n${r.output}`);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** A GET from inside a host (its loopback: container ports, nginx on other ports). */
export async function getInHost(
  fleet: Fleet,
  host: string,
  url: string,
): Promise<{ status: number; body: string }> {
  return parseCurlGet((await fleet.exec(host, curlGet(url))).stdout);
}

// ---------------------------------------------------------------------------
// Load, bounded

export interface BoundedLoad {
  stop(): Promise<LoadReport & { ms: number; cutShort: boolean }>;
}

/**
 * startLoad through `url` with fresh connections, stopped at stop(), or
 * earlier when it has run `maxMs` or sent `maxRequests` (then cutShort says so:
 * the scenario was not covered by load to its end).
 */
export function boundedLoad(
  url: string,
  options: { concurrency?: number; maxMs?: number; maxRequests?: number } = {},
): BoundedLoad {
  const maxMs = options.maxMs ?? 5 * 60_000;
  const maxRequests = options.maxRequests ?? 150_000;
  const load = startLoad(url, { concurrency: options.concurrency ?? 3 });
  const started = Date.now();
  let cutShort = false;
  let ended = 0;
  let stopping: Promise<LoadReport> | undefined;
  const stopNow = () => {
    ended ||= Date.now();
    return (stopping ??= load.stop());
  };
  const watch = setInterval(() => {
    if (Date.now() - started > maxMs || load.snapshot().requests >= maxRequests) {
      cutShort = true;
      void stopNow();
    }
  }, 250);
  return {
    async stop() {
      clearInterval(watch);
      const report = await stopNow();
      return { ...report, ms: ended - started, cutShort };
    },
  };
}
