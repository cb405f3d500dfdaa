// Fakes of every host effect (effects.ts) for the handlers' unit tests: an
// in-memory Docker, locks, a clock that moves only when slept on, scripted
// programs, probes and /proc, and a real store and conf dirs in a temp dir.
// Every effect with a consequence appends a line to one `trace`, so a test
// can assert the whole order of what a handler did.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type {
  ContainerState,
  CreateOptions,
  DockerClient,
  DockerEvent,
  EventFilters,
  EventHandlers,
  ExecOutcome,
  ListedContainer,
} from "./docker";
import type { HostEffects, Processes } from "./effects";
import type { ExecResult } from "./exec";
import { ConfDir } from "./files";
import type { Probe } from "./health";
import type { Locks } from "./lock";
import type { NginxWorkers } from "./proc";
import { type ContainerRecord, HostStore, LABELS, type ReleaseRecord } from "./store";

export interface FakeContainer {
  name: string;
  image: string;
  /** Docker's words: created, running, exited. */
  status: string;
  exitCode: number;
  oomKilled: boolean;
  labels: Record<string, string>;
  options: CreateOptions;
  logs: string;
  stdout: string;
  stderr: string;
}

/** Docker in memory. A started container runs, unless `onStart` says otherwise. */
export class FakeDocker implements DockerClient {
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** What starting does to a container (after it is marked running). */
  onStart: (c: FakeContainer) => void = () => undefined;
  /** What `docker exec` of a command gives; exit 0 by default. */
  onExec: (c: FakeContainer, command: string[]) => ExecOutcome = () => ({
    exitCode: 0,
    output: "",
  });
  /** Set to make the next pull fail with this message. */
  pullError?: string;
  /** Whether the daemon answers streamEvents; false: it rejects, as when dockerd is down. */
  daemonUp = true;
  /** The open events stream, if any: `emit` sends on it, `closeEvents` ends it. */
  private events?: { filters: EventFilters; handlers: EventHandlers; end: () => void };
  private readonly exits = new Map<string, (() => void)[]>();

  constructor(private readonly trace: string[]) {}

  /** Sends an event of container `name` on the open stream (if it passes the filters). */
  emit(name: string, action: string, attributes: Record<string, string> = {}): void {
    const stream = this.events;
    const labels = { ...this.containers.get(name)?.labels, ...attributes };
    if (!stream || !stream.filters.event.includes(action.split(":")[0])) return;
    if (!stream.filters.label.every((l) => l in labels)) return;
    const event: DockerEvent = { action, name, attributes: { ...labels, name } };
    stream.handlers.onEvent(event);
  }

  /** The daemon closes the events stream (it is stopping). */
  closeEvents(): void {
    this.events?.end();
  }

  get eventsOpen(): boolean {
    return this.events !== undefined;
  }

  /** A container that is already there, as an earlier deploy or the supervisor left it. */
  add(name: string, status: string, labels: Record<string, string> = {}): FakeContainer {
    const c: FakeContainer = {
      name,
      image: "?",
      status,
      exitCode: 0,
      oomKilled: false,
      labels,
      options: { name, image: "?", env: {}, labels, stopTimeoutSeconds: 10 },
      logs: "",
      stdout: "",
      stderr: "",
    };
    this.containers.set(name, c);
    return c;
  }

  /** The container's main process exits with `code`. */
  exit(name: string, code: number): void {
    const c = this.containers.get(name);
    if (!c) return;
    c.status = "exited";
    c.exitCode = code;
    if (c.options.autoRemove) this.containers.delete(name);
    for (const resolve of this.exits.get(name) ?? []) resolve();
    this.exits.delete(name);
  }

  async createContainer(o: CreateOptions): Promise<string> {
    this.trace.push(`docker create ${o.name} ${o.image}`);
    if (this.containers.has(o.name)) throw new Error(`docker create: ${o.name} already exists`);
    const c = this.add(o.name, "created", o.labels);
    Object.assign(c, { image: o.image, options: o });
    return `id-${o.name}`;
  }

  async startContainer(name: string): Promise<void> {
    this.trace.push(`docker start ${name}`);
    const c = this.mustGet(name);
    Object.assign(c, { status: "running", oomKilled: false });
    this.onStart(c);
  }

  async stopContainer(name: string, seconds: number): Promise<void> {
    this.trace.push(`docker stop ${name} ${seconds}s`);
    if (this.containers.get(name)?.status === "running") this.exit(name, 143);
  }

  async restartContainer(name: string, seconds: number): Promise<void> {
    this.trace.push(`docker restart ${name} ${seconds}s`);
    Object.assign(this.mustGet(name), { status: "running", oomKilled: false });
  }

  async killContainer(name: string, signal: string): Promise<void> {
    this.trace.push(`docker kill ${name} ${signal}`);
  }

  waitContainer(name: string, condition: "next-exit" | "removed"): Promise<number> {
    this.trace.push(`docker wait ${name} ${condition}`);
    const c = this.mustGet(name);
    return new Promise((resolve) => {
      const waiters = this.exits.get(name) ?? [];
      waiters.push(() => resolve(c.exitCode));
      this.exits.set(name, waiters);
    });
  }

  async removeContainer(name: string): Promise<void> {
    this.trace.push(`docker remove ${name}`);
    this.containers.delete(name);
  }

  async inspectContainer(name: string): Promise<ContainerState | undefined> {
    this.trace.push(`docker inspect ${name}`);
    const c = this.containers.get(name);
    return (
      c && {
        name,
        status: c.status,
        exitCode: c.exitCode,
        oomKilled: c.oomKilled,
        labels: { ...c.labels },
      }
    );
  }

  async listContainers(label: string): Promise<ListedContainer[]> {
    this.trace.push(`docker list ${label}`);
    const [key, value] = label.split("=");
    return [...this.containers.values()]
      .filter((c) => key in c.labels && (value === undefined || c.labels[key] === value))
      .map((c) => ({ name: c.name, state: c.status, labels: { ...c.labels } }));
  }

  async imageExists(ref: string): Promise<boolean> {
    this.trace.push(`docker image ${ref}`);
    return this.images.has(ref);
  }

  async imageTags(repository: string): Promise<string[]> {
    this.trace.push(`docker tags ${repository}`);
    return [...this.images]
      .filter((i) => i.startsWith(`${repository}:`))
      .map((i) => i.slice(repository.length + 1))
      .sort();
  }

  async pullImage(repository: string, tag: string): Promise<void> {
    this.trace.push(`docker pull ${repository}:${tag}`);
    if (this.pullError) throw new Error(this.pullError);
    this.images.add(`${repository}:${tag}`);
  }

  async containerLogs(name: string, tail: number): Promise<string> {
    this.trace.push(`docker logs ${name} ${tail}`);
    return this.containers.get(name)?.logs ?? "";
  }

  async containerOutput(name: string, stream: "stdout" | "stderr"): Promise<string> {
    this.trace.push(`docker output ${name} ${stream}`);
    return this.mustGet(name)[stream];
  }

  async execInContainer(name: string, command: string[], timeoutMs: number): Promise<ExecOutcome> {
    this.trace.push(`docker exec ${name} ${command.join(" ")} (${timeoutMs}ms)`);
    const c = this.mustGet(name);
    if (c.status !== "running") throw new Error(`docker exec: container ${name} is not running`);
    return this.onExec(c, command);
  }

  streamEvents(filters: EventFilters, handlers: EventHandlers, signal: AbortSignal): Promise<void> {
    this.trace.push(`docker events ${filters.event.join(",")}`);
    if (!this.daemonUp) return Promise.reject(new Error("cannot reach the Docker daemon"));
    return new Promise((resolve) => {
      const end = () => {
        if (this.events?.end === end) this.events = undefined;
        signal.removeEventListener("abort", end);
        resolve();
      };
      this.events = { filters, handlers, end };
      signal.addEventListener("abort", end);
      handlers.onOpen();
    });
  }

  private mustGet(name: string): FakeContainer {
    const c = this.containers.get(name);
    if (!c) throw new Error(`docker: no such container: ${name}`);
    return c;
  }
}

/** Locks in memory; those in `held` are another process's, so tryHold gives up on them. */
export function fakeLocks(trace: string[], held = new Set<string>()): Locks {
  const hold = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    trace.push(`lock ${name}`);
    // Held while fn runs, so a tryHold meanwhile gives up as on a host (nginx-batch.ts tells
    // a live requester by it); a name the test holds for another process stays held.
    const mine = !held.has(name);
    if (mine) held.add(name);
    try {
      return await fn();
    } finally {
      if (mine) held.delete(name);
      trace.push(`unlock ${name}`);
    }
  };
  return {
    hold,
    async tryHold(name, fn) {
      if (!held.has(name)) return hold(name, fn);
      trace.push(`lock ${name}: held by another process`);
      return undefined;
    },
  };
}

/** The real store in a temp dir, tracing what the handlers change in it. */
export class TracingStore extends HostStore {
  constructor(
    root: string,
    private readonly trace: string[],
  ) {
    super(root);
  }
  override writeContainer(record: ContainerRecord): void {
    this.trace.push(`store write container ${record.name}`);
    super.writeContainer(record);
  }
  override removeContainer(name: string): void {
    this.trace.push(`store remove container ${name}`);
    super.removeContainer(name);
  }
  override writeRelease(release: ReleaseRecord): void {
    this.trace.push(`store write release ${release.serviceId}`);
    super.writeRelease(release);
  }
  override removeRelease(serviceId: string): void {
    this.trace.push(`store remove release ${serviceId}`);
    super.removeRelease(serviceId);
  }
}

/** A test's host: every effect faked, the store and conf dirs in a temp dir. */
export interface FakeHost {
  fx: HostEffects;
  trace: string[];
  docker: FakeDocker;
  store: TracingStore;
  /** Locks another process holds. */
  held: Set<string>;
  clock: { now: number };
  /** `nginx -t` and the like: the result for "file args...", exit 0 otherwise. */
  programs: Map<string, ExecResult>;
  /** The health probe's answer for a port; healthy by default. */
  probe: (port: number) => Probe;
  /**
   * Successive /proc scans for nginx workers; the last one repeats. Empty (the
   * default): one worker, replaced by a new one at each `nginx -s reload`.
   */
  workerScans: NginxWorkers[];
  processes: FakeProcesses;
  log: string[];
  logLine: (line: string) => void;
  /** The temp dir, removed by cleanup(). */
  dir: string;
  cleanup(): void;
}

export interface FakeProcesses extends Processes {
  /** Live processes by pid, with their argument vectors. */
  table: Map<number, string[]>;
  /** Pids whose kill(pid, 0) fails with EPERM (another user's process). */
  foreign: Set<number>;
  signalHandlers: Map<NodeJS.Signals, (signal: NodeJS.Signals) => void>;
  /** What the next spawnSupervisor gives. */
  nextPid: number;
}

export const START = Date.parse("2026-11-26T08:00:00.000Z");

function fakeProcesses(trace: string[]): FakeProcesses {
  const p: FakeProcesses = {
    pid: 4242,
    env: {},
    script: "/usr/local/bin/conductor",
    table: new Map(),
    foreign: new Set(),
    signalHandlers: new Map(),
    nextPid: 5000,
    kill(pid, signal) {
      if (signal !== 0) trace.push(`kill ${pid} ${signal}`);
      const fail = (code: string) => Object.assign(new Error(`kill ${code}`), { code });
      if (!p.table.has(pid)) throw fail("ESRCH");
      if (p.foreign.has(pid)) throw fail("EPERM");
    },
    cmdline: (pid) => p.table.get(pid),
    onSignals(signals, handler) {
      for (const s of signals) p.signalHandlers.set(s, handler);
      return () => signals.forEach((s) => p.signalHandlers.delete(s));
    },
    spawnSupervisor(logFile) {
      trace.push(`spawn conductor supervise >> ${logFile}`);
      return p.nextPid;
    },
  };
  return p;
}

export function fakeHost(): FakeHost {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-host-"));
  for (const sub of ["nginx", "cron"]) fs.mkdirSync(path.join(dir, sub));
  const trace: string[] = [];
  const log: string[] = [];
  const held = new Set<string>();
  const clock = { now: START };
  let names = 0;
  let reloads = 0;
  const host: FakeHost = {
    trace,
    docker: new FakeDocker(trace),
    store: new TracingStore(path.join(dir, "state"), trace),
    held,
    clock,
    programs: new Map(),
    probe: () => ({ healthy: true }),
    workerScans: [],
    processes: fakeProcesses(trace),
    log,
    logLine: (line) => log.push(line),
    dir,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    fx: undefined as unknown as HostEffects,
  };
  host.fx = {
    docker: host.docker,
    store: host.store,
    locks: fakeLocks(trace, held),
    async exec(file, args) {
      const key = [file, ...args].join(" ");
      trace.push(`exec ${key}`);
      const result = host.programs.get(key) ?? { code: 0, stdout: "", stderr: "" };
      if (key === "nginx -s reload" && result.code === 0) reloads++;
      return result;
    },
    async probe(port, check) {
      trace.push(`probe ${port}${check.path}`);
      // Docker unpublishes the port of a container that stops: nothing answers there.
      const owner = [...host.docker.containers.values()].find(
        (c) => c.labels[LABELS.port] === String(port),
      );
      if (owner && owner.status !== "running") {
        return { healthy: false, reason: `connect ECONNREFUSED 127.0.0.1:${port}` };
      }
      return host.probe(port);
    },
    clock: {
      now: () => clock.now,
      sleep: async (ms) => void (clock.now += ms),
    },
    random: { fraction: () => 0, hex: (bytes) => (++names).toString(16).padStart(bytes * 2, "0") },
    canListen: async () => true,
    nginxConfDir: new ConfDir(path.join(dir, "nginx"), 0o644),
    cronDir: new ConfDir(path.join(dir, "cron"), 0o644),
    // No deploy under way beside the one under test: a batch leader does not wait for more.
    deployActivity: () => ({ containerUps: 0, nginxRequests: 0, recordsWritten: new Map() }),
    nginxWorkers: () =>
      host.workerScans.length === 0
        ? { running: [1 + reloads], draining: 0 }
        : host.workerScans.length > 1
          ? host.workerScans.shift()!
          : host.workerScans[0],
    async attach(name, interactive) {
      trace.push(`attach ${name}${interactive ? " -i" : ""}`);
    },
    processes: host.processes,
  };
  return host;
}
