// A fleet of real test hosts on this machine, for end-to-end tests of deploys
// to several hosts: three containers (h1, h2 with a small init script, h3
// booting systemd), each running its own dockerd, nginx, cron and sshd; a
// private registry with TLS and htpasswd; a front nginx on 127.0.0.1 over the
// hosts' port 80; and faults to inject (sshd down, a reboot, a host down).
//
// Everything a fleet starts is named conductor-fleet-<run id>[-<part>] and
// recorded in its run directory (<tmp>/conductor-fleet-<run id>/fleet.json),
// so stop() removes it, and so does the next startFleet() when the process
// that started a fleet died without stopping it.
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { run, type RunResult } from "../e2e/harness";

export const PREFIX = "conductor-fleet-";
const LABEL = "conductor.fleet.run";
const HERE = __dirname;
const REGISTRY_NAME = "registry";
const REGISTRY_PORT = 5000;
const KNOWN_HOSTS = path.join(os.homedir(), ".ssh", "known_hosts");

export interface HostSpec {
  name: string;
  /** systemd as PID 1 (docker, nginx, cron, ssh as its units); else init.sh. */
  systemd: boolean;
}

/** h1 and h2 boot a small init script, h3 boots systemd. */
export const DEFAULT_HOSTS: HostSpec[] = [
  { name: "h1", systemd: false },
  { name: "h2", systemd: false },
  { name: "h3", systemd: true },
];

export interface FleetHost {
  name: string;
  /** sshd, published on 127.0.0.1 (the same port across reboots). */
  sshPort: number;
  /** The host's port 80 (its nginx), published on 127.0.0.1. */
  httpPort: number;
  /** The Docker container that is the host. */
  container: string;
  systemd: boolean;
}

export interface FleetRegistry {
  /** As the hosts reach it: the name images are pulled by (registry:5000). */
  address: string;
  /** As this machine reaches it (127.0.0.1:<port>). */
  localAddress: string;
  username: string;
  password: string;
  /** The test CA's certificate (PEM), which every host trusts. */
  caCert: string;
}

export interface FleetOptions {
  hosts?: HostSpec[];
  /** Progress lines; default: to stderr. */
  log?: (line: string) => void;
  /**
   * No owner process: the fleet stays up after this process exits, until
   * `scripts/fleet.sh down` (for a person, through scripts/fleet.sh up).
   */
  persistent?: boolean;
  /** How long each host has to come up, at start and after a reboot. */
  readyTimeoutMs?: number;
}

export interface ExecOptions {
  input?: string;
}

export interface Fleet {
  runId: string;
  /** The run directory: keys, CA, configs, the front LB's files. */
  dir: string;
  image: string;
  hosts: FleetHost[];
  host(name: string): FleetHost;
  /** The throwaway ed25519 key root logs in with on every host (OpenSSH PEM). */
  privateKey: string;
  /** The same key in a 0600 file, for `ssh -i`. */
  keyFile: string;
  registry: FleetRegistry;
  /** The front load balancer, e.g. http://127.0.0.1:43121/ */
  frontUrl: string;
  /** The hosts the front LB balances over now. */
  frontHosts: string[];
  /** How long start took, in ms: the image (0 when cached) and the rest. */
  timings: { imageMs: number; startMs: number };

  /** Pushes a local image to the registry; resolves to the name hosts pull it by. */
  pushImage(localRef: string, repository: string, tag: string): Promise<string>;
  /** `docker save localRef | docker load` into each host (default: all). */
  loadImage(localRef: string, hosts?: string[]): Promise<void>;
  /** Balances the front LB over these hosts only (reloads it). */
  setFrontHosts(names: string[]): Promise<void>;
  /** docker exec in a host. */
  exec(host: string, argv: string[], options?: ExecOptions): Promise<RunResult>;
  /** The host's own docker CLI (its inner daemon). */
  docker(host: string, argv: string[], options?: ExecOptions): Promise<RunResult>;
  /** A command over SSH as root, with the fleet's key. */
  ssh(host: string, command: string): Promise<RunResult>;
  stopSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  /** Restarts the host container and waits for its daemons to be up again. */
  reboot(host: string): Promise<void>;
  /** The whole host down (container stopped), and up again. */
  stopHost(host: string): Promise<void>;
  startHost(host: string): Promise<void>;
  /** Removes everything the fleet started. Safe to call more than once. */
  stop(): Promise<void>;
}

/** What a run directory's fleet.json records. */
export interface FleetRecord {
  runId: string;
  dir: string;
  createdAt: string;
  /** The process that owns the fleet; null for a persistent one. */
  owner: { pid: number; startTime: string } | null;
  image: string;
  network: string;
  hosts: FleetHost[];
  registry: Omit<FleetRegistry, "caCert"> & { container: string };
  frontUrl: string;
  frontHosts: string[];
  keyFile: string;
}

// ---------------------------------------------------------------------------
// Starting

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const log = options.log ?? ((line: string) => process.stderr.write(`    fleet: ${line}\n`));
  const specs = options.hosts ?? DEFAULT_HOSTS;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  await checkTools();
  await removeLeftovers(log);

  const imageStarted = Date.now();
  const image = await buildImage();
  const imageMs = Date.now() - imageStarted;

  const started = Date.now();
  const runId = crypto.randomBytes(4).toString("hex");
  const dir = runDir(runId);
  fs.mkdirSync(dir, { mode: 0o700 });
  const network = `${PREFIX}${runId}`;
  const record: FleetRecord = {
    runId,
    dir,
    createdAt: new Date().toISOString(),
    owner: options.persistent
      ? null
      : { pid: process.pid, startTime: processStartTime(process.pid)! },
    image,
    network,
    hosts: [],
    registry: {
      address: `${REGISTRY_NAME}:${REGISTRY_PORT}`,
      localAddress: "",
      username: "conductor",
      password: crypto.randomBytes(12).toString("hex"),
      container: `${network}-registry`,
    },
    frontUrl: "",
    frontHosts: specs.map((s) => s.name),
    keyFile: path.join(dir, "id_ed25519"),
  };
  saveRecord(record);
  log(`starting fleet ${runId}: ${specs.map((s) => s.name).join(", ")}, registry, front LB`);

  try {
    await makeSecrets(record);
    await must("docker", ["network", "create", "--label", `${LABEL}=${runId}`, network]);
    const registryStarting = startRegistry(record);
    record.hosts = await Promise.all(specs.map((spec) => createHost(record, spec)));
    saveRecord(record);
    // Fresh host keys on ports an earlier fleet may have used.
    for (const host of record.hosts) await forgetHostKey(host.sshPort);
    await Promise.all(record.hosts.map((h) => waitReady(h, readyTimeoutMs)));
    await registryStarting;
    saveRecord(record);
    await startFront(record);
    saveRecord(record);
  } catch (err) {
    await removeRun(record).catch(() => undefined);
    throw err;
  }
  const fleet = new RunningFleet(record, readyTimeoutMs, {
    imageMs,
    startMs: Date.now() - started,
  });
  log(`fleet ${runId} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return fleet;
}

async function checkTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of [
    "docker",
    "debootstrap",
    "htpasswd",
    "openssl",
    "nginx",
    "ssh-keygen",
    "curl",
  ])
    if ((await run("sh", ["-c", `command -v ${tool}`])).code !== 0) missing.push(tool);
  if (missing.length)
    throw new Error(`the test fleet needs ${missing.join(", ")}: run scripts/prerequisites.sh`);
}

/** The host image: built once (about 2 minutes), then found by its key. */
export async function buildImage(): Promise<string> {
  return new Promise((resolve, reject) => {
    // Progress goes straight to our stderr: a cold build takes minutes.
    const child = spawn("bash", [path.join(HERE, "build-image.sh")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const image = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && image) resolve(image);
      else
        reject(
          new Error(`building the fleet host image failed (exit ${code}); see its output above`),
        );
    });
  });
}

async function makeSecrets(record: FleetRecord): Promise<void> {
  const dir = record.dir;
  await must("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    `${PREFIX}${record.runId}`,
    "-f",
    record.keyFile,
  ]);
  // A test CA, and the registry's certificate for the names it is reached by.
  const days = "7";
  await must("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    days,
    "-subj",
    `/CN=conductor test fleet CA ${record.runId}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    path.join(dir, "ca.key"),
    "-out",
    path.join(dir, "ca.crt"),
  ]);
  await must("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    `/CN=${REGISTRY_NAME}`,
    "-keyout",
    path.join(dir, "registry.key"),
    "-out",
    path.join(dir, "registry.csr"),
  ]);
  fs.writeFileSync(
    path.join(dir, "registry.ext"),
    [
      `subjectAltName=DNS:${REGISTRY_NAME},DNS:localhost,IP:127.0.0.1`,
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  await must("openssl", [
    "x509",
    "-req",
    "-in",
    path.join(dir, "registry.csr"),
    "-CA",
    path.join(dir, "ca.crt"),
    "-CAkey",
    path.join(dir, "ca.key"),
    "-CAcreateserial",
    "-days",
    days,
    "-extfile",
    path.join(dir, "registry.ext"),
    "-out",
    path.join(dir, "registry.crt"),
  ]);
  const htpasswd = await must("htpasswd", [
    "-Bbn",
    record.registry.username,
    record.registry.password,
  ]);
  fs.writeFileSync(path.join(dir, "htpasswd"), htpasswd.stdout.trim() + "\n", { mode: 0o644 });
  fs.mkdirSync(path.join(dir, "docker-config"), { mode: 0o700 });
}

/** The capabilities of this machine's bounding set Docker 20.10 can add by name. */
function capabilities(): string[] {
  // Bits 0..37; Docker 20.10 rejects PERFMON, BPF, CHECKPOINT_RESTORE (38..40).
  const names = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
  ];
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1];
  const bounding = BigInt(`0x${hex ?? "0"}`);
  return names.filter((_, bit) => (bounding >> BigInt(bit)) & 1n);
}

/** Flags a host container needs to run its own dockerd (--privileged fails here). */
function hostFlags(spec: HostSpec, cgroupParentName: string): string[] {
  const flags = [
    ...capabilities().flatMap((c) => ["--cap-add", c]),
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--device-cgroup-rule",
    "a *:* rwm",
    // Without a writable cgroup tree the inner dockerd cannot start containers.
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--stop-timeout",
    "30",
    "--label",
    `conductor.fleet.cgroup-parent=${cgroupParentName}`,
  ];
  if (spec.systemd) flags.push("-e", "container=docker", "--stop-signal", "SIGRTMIN+3");
  return flags;
}

async function createHost(record: FleetRecord, spec: HostSpec): Promise<FleetHost> {
  const container = `${record.network}-${spec.name}`;
  const cgroupParent = `${container}`;
  const staging = path.join(record.dir, "hosts", spec.name);
  fs.mkdirSync(staging, { recursive: true });
  fs.writeFileSync(
    path.join(staging, "host.env"),
    [
      `FLEET_HOST=${spec.name}`,
      `FLEET_INIT=${spec.systemd ? "systemd" : "script"}`,
      `FLEET_CGROUP_PARENT=${cgroupParent}`,
      `FLEET_REGISTRY=${record.registry.address}`,
      "",
    ].join("\n"),
  );
  fs.copyFileSync(`${record.keyFile}.pub`, path.join(staging, "authorized_keys"));
  fs.copyFileSync(path.join(record.dir, "ca.crt"), path.join(staging, "ca.crt"));

  // Ports of our choosing, so a reboot keeps them (Docker picks new random
  // ones at each start); another process may take one first: then again.
  for (let attempt = 1; ; attempt++) {
    const [sshPort, httpPort] = await freePorts(2);
    await run("docker", ["rm", "-f", container]);
    await must("docker", [
      "create",
      "--name",
      container,
      "--hostname",
      spec.name,
      "--network",
      record.network,
      "--network-alias",
      spec.name,
      "--label",
      `${LABEL}=${record.runId}`,
      ...hostFlags(spec, cgroupParent),
      "-p",
      `127.0.0.1:${sshPort}:22`,
      "-p",
      `127.0.0.1:${httpPort}:80`,
      record.image,
      "/fleet/entrypoint.sh",
    ]);
    await must("docker", ["cp", `${path.join(HERE, "host")}/.`, `${container}:/fleet/`]);
    await must("docker", ["cp", `${staging}/.`, `${container}:/fleet/run/`]);
    const start = await run("docker", ["start", container]);
    if (start.code === 0)
      return { name: spec.name, sshPort, httpPort, container, systemd: spec.systemd };
    if (attempt >= 3 || !/already allocated|address already in use/.test(start.output))
      throw new Error(`docker start ${container} failed:\n${start.output}`);
  }
}

async function startRegistry(record: FleetRecord): Promise<void> {
  const container = record.registry.container;
  const staging = path.join(record.dir, "registry");
  fs.mkdirSync(staging, { recursive: true });
  for (const file of ["registry.crt", "registry.key", "htpasswd", "ca.crt"])
    fs.copyFileSync(path.join(record.dir, file), path.join(staging, file));
  fs.writeFileSync(
    path.join(staging, "registry.yml"),
    [
      "version: 0.1",
      "log: { level: warn }",
      "storage:",
      "  filesystem: { rootdirectory: /var/lib/docker-registry }",
      "  delete: { enabled: true }",
      "http:",
      `  addr: ":${REGISTRY_PORT}"`,
      "  tls: { certificate: /fleet/run/registry.crt, key: /fleet/run/registry.key }",
      "auth:",
      "  htpasswd: { realm: conductor-fleet, path: /fleet/run/htpasswd }",
      "",
    ].join("\n"),
  );
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    await run("docker", ["rm", "-f", container]);
    await must("docker", [
      "create",
      "--name",
      container,
      "--hostname",
      REGISTRY_NAME,
      "--network",
      record.network,
      "--network-alias",
      REGISTRY_NAME,
      "--label",
      `${LABEL}=${record.runId}`,
      "-p",
      `127.0.0.1:${port}:${REGISTRY_PORT}`,
      record.image,
      "/fleet/registry.sh",
    ]);
    await must("docker", ["cp", `${path.join(HERE, "host")}/.`, `${container}:/fleet/`]);
    await must("docker", ["cp", `${staging}/.`, `${container}:/fleet/run/`]);
    const start = await run("docker", ["start", container]);
    if (start.code === 0) {
      record.registry.localAddress = `127.0.0.1:${port}`;
      break;
    }
    if (attempt >= 3 || !/already allocated|address already in use/.test(start.output))
      throw new Error(`docker start ${container} failed:\n${start.output}`);
  }
  // Up when it asks an anonymous client for credentials, over TLS we trust.
  const url = `https://${record.registry.localAddress}/v2/`;
  let last = "";
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
    const r = await run("curl", [
      "-sS",
      "--max-time",
      "2",
      "--cacert",
      path.join(record.dir, "ca.crt"),
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      url,
    ]);
    last = r.output;
    if (r.stdout === "401") return;
    if ((await inspect(container, "{{.State.Running}}")) === "false") break;
  }
  const logs = await run("docker", ["logs", "--tail", "30", container]);
  throw new Error(`the fleet's registry did not come up (${url}: ${last}):\n${logs.output}`);
}

/** Waits until the host's daemons all run; fails with its logs if they do not. */
async function waitReady(host: FleetHost, timeoutMs: number): Promise<void> {
  let last = "";
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(300)) {
    const ready = await run("docker", ["exec", host.container, "/fleet/ready.sh"]);
    if (ready.code === 0) return;
    last = ready.output.trim();
    if ((await inspect(host.container, "{{.State.Running}}")) !== "true") {
      last = `the container is not running (${await inspect(host.container, "{{.State.Status}} exit {{.State.ExitCode}}")})`;
      break;
    }
  }
  const logs = await run("docker", ["exec", host.container, "/fleet/ready.sh", "--logs"]);
  const console = await run("docker", ["logs", "--tail", "30", host.container]);
  throw new Error(
    `fleet host ${host.name} (${host.container}) did not come up in ${timeoutMs / 1000} s: ${last}\n` +
      `--- docker logs\n${console.output}\n${logs.output}`,
  );
}

// ---------------------------------------------------------------------------
// The front load balancer: this machine's nginx binary as an instance of its
// own (its own prefix, config, pid file and logs; /etc/nginx is not read).

const frontPaths = (dir: string) => {
  const front = path.join(dir, "front");
  return {
    front,
    config: path.join(front, "nginx.conf"),
    pid: path.join(front, "nginx.pid"),
    errorLog: path.join(front, "error.log"),
  };
};

function frontConfig(record: FleetRecord, port: number): string {
  const p = frontPaths(record.dir);
  const servers = record.frontHosts.map((name) => {
    const host = record.hosts.find((h) => h.name === name)!;
    // A refused connection marks a host down for 2 s; the next request tries it again.
    return `    server 127.0.0.1:${host.httpPort} max_fails=1 fail_timeout=2s; # ${name}`;
  });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
    (t) => `  ${t}_temp_path ${path.join(p.front, "tmp", t)};`,
  );
  return [
    `# conductor test fleet ${record.runId}: the front load balancer over the hosts' port 80.`,
    "daemon on;",
    "user root;",
    "worker_processes 1;",
    `pid ${p.pid};`,
    `error_log ${p.errorLog} warn;`,
    // A reload finishes in bounded time even with keep-alive clients.
    "worker_shutdown_timeout 3s;",
    "events { worker_connections 1024; }",
    "http {",
    `  access_log ${path.join(p.front, "access.log")} combined buffer=32k flush=1s;`,
    ...temp,
    "  upstream fleet {",
    ...servers,
    "  }",
    "  server {",
    `    listen 127.0.0.1:${port};`,
    "    location / {",
    "      proxy_pass http://fleet;",
    // A host down (refused, timed out) or its nginx without a live upstream:
    // the request goes to the next host.
    "      proxy_next_upstream error timeout http_502 http_503 http_504;",
    "      proxy_next_upstream_tries 0;",
    "      proxy_next_upstream_timeout 15s;",
    "      proxy_connect_timeout 2s;",
    "      proxy_read_timeout 30s;",
    "      proxy_set_header Host $host;",
    "      proxy_set_header Connection close;",
    // Which host answered, for tests (the last of the hosts tried).
    "      add_header X-Fleet-Upstream $upstream_addr always;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

const nginxArgs = (dir: string) => {
  const p = frontPaths(dir);
  return ["-p", `${p.front}/`, "-c", p.config, "-e", p.errorLog];
};

async function startFront(record: FleetRecord): Promise<void> {
  const p = frontPaths(record.dir);
  for (const t of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
    fs.mkdirSync(path.join(p.front, "tmp", t), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    fs.writeFileSync(p.config, frontConfig(record, port));
    const started = await run("nginx", nginxArgs(record.dir));
    if (started.code === 0) {
      record.frontUrl = `http://127.0.0.1:${port}/`;
      break;
    }
    if (attempt >= 3 || !/Address already in use/.test(started.output))
      throw new Error(`the front nginx did not start:\n${started.output}`);
  }
  // Listening: any answer will do (the hosts serve nothing yet).
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
    const r = await run("curl", [
      "-s",
      "--max-time",
      "5",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      record.frontUrl,
    ]);
    if (r.stdout !== "000" && r.stdout !== "") return;
  }
  throw new Error(`the front nginx does not answer at ${record.frontUrl}`);
}

function frontWorkers(dir: string): number[] {
  const master = readPid(frontPaths(dir).pid);
  if (!master) return [];
  return childrenOf(master);
}

async function reloadFront(record: FleetRecord): Promise<void> {
  const p = frontPaths(record.dir);
  const port = Number(new URL(record.frontUrl).port);
  fs.writeFileSync(p.config, frontConfig(record, port));
  await must("nginx", [...nginxArgs(record.dir), "-t", "-q"]);
  const before = frontWorkers(record.dir);
  await must("nginx", [...nginxArgs(record.dir), "-s", "reload"]);
  // Reloaded when new workers run and the old ones are gone (they finish
  // their requests within worker_shutdown_timeout).
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
    const now = frontWorkers(record.dir);
    if (now.length > 0 && !now.some((pid) => before.includes(pid))) return;
  }
  throw new Error(`the front nginx did not reload in 10 s (see ${p.errorLog})`);
}

// ---------------------------------------------------------------------------
// A running fleet

class RunningFleet implements Fleet {
  readonly runId: string;
  readonly dir: string;
  readonly image: string;
  readonly hosts: FleetHost[];
  readonly privateKey: string;
  readonly keyFile: string;
  readonly registry: FleetRegistry;
  readonly frontUrl: string;
  private stopped = false;
  private loggedIn = false;
  private readonly onExit = () => removeRunSync(this.record);

  constructor(
    private readonly record: FleetRecord,
    private readonly readyTimeoutMs: number,
    readonly timings: { imageMs: number; startMs: number },
  ) {
    this.runId = record.runId;
    this.dir = record.dir;
    this.image = record.image;
    this.hosts = record.hosts;
    this.keyFile = record.keyFile;
    this.privateKey = fs.readFileSync(record.keyFile, "utf8");
    const { address, localAddress, username, password } = record.registry;
    const caCert = fs.readFileSync(path.join(record.dir, "ca.crt"), "utf8");
    this.registry = { address, localAddress, username, password, caCert };
    this.frontUrl = record.frontUrl;
    // Interrupted without stop(): the next startFleet() removes what this
    // leaves behind; on an ordinary exit, remove it now.
    if (record.owner) process.once("exit", this.onExit);
  }

  get frontHosts(): string[] {
    return [...this.record.frontHosts];
  }

  host(name: string): FleetHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host)
      throw new Error(`no fleet host ${name} (hosts: ${this.hosts.map((h) => h.name).join(", ")})`);
    return host;
  }

  async pushImage(localRef: string, repository: string, tag: string): Promise<string> {
    // The outer daemon pushes to the registry's loopback port (127.0.0.0/8 is
    // an insecure registry to it: TLS, unverified); credentials go to a
    // DOCKER_CONFIG of this run's, not to ~/.docker.
    const local = this.registry.localAddress;
    const env = { ...process.env, DOCKER_CONFIG: path.join(this.dir, "docker-config") };
    if (!this.loggedIn) {
      await must(
        "docker",
        ["login", "--username", this.registry.username, "--password-stdin", local],
        {
          env,
          input: this.registry.password,
        },
      );
      this.loggedIn = true;
    }
    const pushRef = `${local}/${repository}:${tag}`;
    await must("docker", ["tag", localRef, pushRef]);
    try {
      await must("docker", ["push", pushRef], { env });
    } finally {
      await run("docker", ["image", "rm", pushRef]); // the tag only: the image stays
    }
    return `${this.registry.address}/${repository}:${tag}`;
  }

  async loadImage(
    localRef: string,
    hosts: string[] = this.hosts.map((h) => h.name),
  ): Promise<void> {
    await Promise.all(
      hosts.map((name) =>
        must("bash", [
          "-c",
          'set -o pipefail; docker save "$1" | docker exec -i "$2" docker load -q',
          "load-image",
          localRef,
          this.host(name).container,
        ]),
      ),
    );
  }

  async setFrontHosts(names: string[]): Promise<void> {
    if (names.length === 0) throw new Error("setFrontHosts: give at least one host");
    for (const name of names) this.host(name);
    this.record.frontHosts = [...names];
    saveRecord(this.record);
    await reloadFront(this.record);
  }

  exec(host: string, argv: string[], options: ExecOptions = {}): Promise<RunResult> {
    const interactive = options.input !== undefined ? ["-i"] : [];
    return run("docker", ["exec", ...interactive, this.host(host).container, ...argv], {
      input: options.input,
    });
  }

  docker(host: string, argv: string[], options: ExecOptions = {}): Promise<RunResult> {
    return this.exec(host, ["docker", ...argv], options);
  }

  ssh(host: string, command: string): Promise<RunResult> {
    return run("ssh", [
      ...sshOptions(this.keyFile),
      "-p",
      String(this.host(host).sshPort),
      "root@127.0.0.1",
      command,
    ]);
  }

  async stopSshd(host: string): Promise<void> {
    await this.execOk(host, ["/fleet/service.sh", "ssh", "stop"]);
    // Gone when nothing listens on port 22 any more.
    await this.waitFor(host, "sshd to stop", ["sh", "-c", "! ss -Hltn 'sport = :22' | grep -q ."]);
  }

  async startSshd(host: string): Promise<void> {
    await this.execOk(host, ["/fleet/service.sh", "ssh", "start"]);
    await this.waitFor(host, "sshd to listen", ["sh", "-c", "ss -Hltn 'sport = :22' | grep -q ."]);
  }

  async reboot(host: string): Promise<void> {
    const h = this.host(host);
    await must("docker", ["restart", "--time", "30", h.container]);
    await waitReady(h, this.readyTimeoutMs);
  }

  async stopHost(host: string): Promise<void> {
    await must("docker", ["stop", "--time", "30", this.host(host).container]);
  }

  async startHost(host: string): Promise<void> {
    const h = this.host(host);
    await must("docker", ["start", h.container]);
    await waitReady(h, this.readyTimeoutMs);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.removeListener("exit", this.onExit);
    await removeRun(this.record);
  }

  private async execOk(host: string, argv: string[]): Promise<RunResult> {
    const r = await this.exec(host, argv);
    if (r.code !== 0)
      throw new Error(`${host}: ${argv.join(" ")} failed (${r.code}):\n${r.output}`);
    return r;
  }

  private async waitFor(host: string, what: string, argv: string[], timeoutMs = 20_000) {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100))
      if ((await this.exec(host, argv)).code === 0) return;
    throw new Error(`${host}: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  }
}

/** ssh options for the fleet's hosts; host keys as the deploy takes them (accept-new). */
export function sshOptions(keyFile: string): string[] {
  return [
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "StrictHostKeyChecking=accept-new",
  ];
}

// ---------------------------------------------------------------------------
// Runs on record, and removing them

const runDir = (runId: string) => path.join(os.tmpdir(), `${PREFIX}${runId}`);
const RUN_ID = /^conductor-fleet-([0-9a-f]{8})(?:-|$)/;

function saveRecord(record: FleetRecord): void {
  const file = path.join(record.dir, "fleet.json");
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** Every fleet recorded on this machine (run directories in the temp dir). */
export function listFleets(): FleetRecord[] {
  const records: FleetRecord[] = [];
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!/^conductor-fleet-[0-9a-f]{8}$/.test(entry)) continue;
    try {
      records.push(
        JSON.parse(
          fs.readFileSync(path.join(os.tmpdir(), entry, "fleet.json"), "utf8"),
        ) as FleetRecord,
      );
    } catch {
      // a run directory without a record: its run died at once; removed as a leftover
    }
  }
  return records;
}

/** Is the process that started this fleet still running? Null owner: persistent. */
export function ownerAlive(record: FleetRecord): boolean {
  if (!record.owner) return true;
  return processStartTime(record.owner.pid) === record.owner.startTime;
}

function processStartTime(pid: number): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat (after the parenthesised command name).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes what earlier runs left: fleets whose owner process is gone, and
 * containers, networks, cgroups and run directories of no live fleet.
 * Fleets of running processes and persistent ones stay, unless `all`.
 */
export async function removeLeftovers(
  log: (line: string) => void = () => undefined,
  all = false,
): Promise<string[]> {
  const live = new Set<string>();
  const removed: string[] = [];
  for (const record of listFleets()) {
    if (!all && ownerAlive(record)) {
      live.add(record.runId);
      continue;
    }
    log(
      `removing fleet ${record.runId} (${record.owner ? `its process ${record.owner.pid} is gone` : "persistent"})`,
    );
    await removeRun(record);
    removed.push(record.runId);
  }
  const stray = new Set<string>();
  const containers = await run("docker", [
    "ps",
    "-a",
    "--filter",
    `name=${PREFIX}`,
    "--format",
    "{{.Names}}",
  ]);
  const networks = await run("docker", [
    "network",
    "ls",
    "--filter",
    `name=${PREFIX}`,
    "--format",
    "{{.Name}}",
  ]);
  for (const name of [...containers.stdout.split("\n"), ...networks.stdout.split("\n")]) {
    const id = RUN_ID.exec(name)?.[1];
    if (id && !live.has(id)) stray.add(id);
  }
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const id = /^conductor-fleet-([0-9a-f]{8})$/.exec(entry)?.[1];
    if (id && !live.has(id)) stray.add(id);
  }
  for (const id of stray) {
    if (removed.includes(id)) continue;
    log(`removing what fleet ${id} left`);
    await removeRun({ runId: id, dir: runDir(id), network: `${PREFIX}${id}`, hosts: [] });
    removed.push(id);
  }
  removeCgroups((id) => !live.has(id));
  return removed;
}

type RunParts = Pick<FleetRecord, "runId" | "dir" | "network" | "hosts">;

async function removeRun(record: RunParts): Promise<void> {
  stopFront(record.dir);
  const prefix = `${PREFIX}${record.runId}`;
  const listed = await run("docker", ["ps", "-aq", "--filter", `label=${LABEL}=${record.runId}`]);
  const named = await run("docker", [
    "ps",
    "-a",
    "--filter",
    `name=${prefix}-`,
    "--format",
    "{{.Names}}",
  ]);
  const containers = [
    ...listed.stdout.split("\n"),
    ...named.stdout.split("\n").filter((n) => n.startsWith(`${prefix}-`)),
  ].filter(Boolean);
  if (containers.length) await run("docker", ["rm", "-f", "-v", ...new Set(containers)]);
  const networks = await run("docker", [
    "network",
    "ls",
    "-q",
    "--filter",
    `label=${LABEL}=${record.runId}`,
  ]);
  for (const n of [...networks.stdout.split("\n").filter(Boolean), record.network])
    await run("docker", ["network", "rm", n]);
  for (const host of record.hosts) await forgetHostKey(host.sshPort);
  removeCgroups((id) => id === record.runId);
  fs.rmSync(record.dir, { recursive: true, force: true });
}

/** The same, synchronously, for process exit (no promises run then). */
function removeRunSync(record: FleetRecord): void {
  stopFront(record.dir);
  const names = [...record.hosts.map((h) => h.container), record.registry.container];
  spawnSync("docker", ["rm", "-f", "-v", ...names], { stdio: "ignore" });
  spawnSync("docker", ["network", "rm", record.network], { stdio: "ignore" });
  for (const host of record.hosts)
    if (fs.existsSync(KNOWN_HOSTS))
      spawnSync("ssh-keygen", ["-R", `[127.0.0.1]:${host.sshPort}`, "-f", KNOWN_HOSTS], {
        stdio: "ignore",
      });
  removeCgroups((id) => id === record.runId);
  fs.rmSync(record.dir, { recursive: true, force: true });
}

function stopFront(dir: string): void {
  const pid = readPid(frontPaths(dir).pid);
  if (!pid) return;
  // Only our nginx: its command line names this run's directory.
  let cmdline = "";
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return;
  }
  if (!cmdline.includes("nginx") || !cmdline.includes(dir)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  // A fast shutdown takes milliseconds; then no more waiting.
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && processStartTime(pid) !== undefined) sleepSync(50);
  if (processStartTime(pid) !== undefined) process.kill(pid, "SIGKILL");
}

/** A host's inner containers get cgroups under conductor-fleet-<run>-<host>: empty dirs stay behind. */
function removeCgroups(which: (runId: string) => boolean): void {
  let controllers: string[] = [];
  try {
    controllers = fs.readdirSync("/sys/fs/cgroup");
  } catch {
    return;
  }
  for (const controller of controllers) {
    const base = path.join("/sys/fs/cgroup", controller);
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const id = RUN_ID.exec(entry)?.[1];
      if (id && which(id)) rmdirTree(path.join(base, entry));
    }
  }
}

function rmdirTree(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir); // cgroup dirs go with rmdir, files and all; busy ones stay
  } catch {
    // still in use
  }
}

async function forgetHostKey(port: number): Promise<void> {
  if (!fs.existsSync(KNOWN_HOSTS)) return;
  await run("ssh-keygen", ["-R", `[127.0.0.1]:${port}`, "-f", KNOWN_HOSTS]);
}

// ---------------------------------------------------------------------------
// Small helpers

async function must(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  const r = await run(file, args, options);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (${r.code}):\n${r.output}`);
  return r;
}

async function inspect(container: string, format: string): Promise<string> {
  return (await run("docker", ["inspect", "-f", format, container])).stdout.trim();
}

/** Ports free on 127.0.0.1 now (all held open together, so they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone
    }
  }
  return children;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
