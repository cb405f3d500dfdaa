// Watches this machine while a deploy runs, for bench/timeline.ts: which
// processes ran when and what CPU each used (a /proc sampler), what Docker did
// to which container (`docker events`), and what the Pulumi engine did to each
// resource (its `--event-log`, tailed). Only reads; never changes anything.
// Not a test: the figures are for reading (issue 11: where a deploy's time goes).
import { spawn } from "node:child_process";
import * as fs from "node:fs";

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK: 100 on Linux). */
const TICKS = 100;
const SAMPLE_MS = Number(process.env.TIMELINE_SAMPLE_MS ?? 50);

/** A process seen by the sampler (a pid with its start time: pids are reused). */
export interface ProcessSeen {
  pid: number;
  ppid: number;
  argv: string[];
  kind: string;
  /** Seconds from the observation's start (negative: it ran before). */
  start: number;
  /** When it was last seen, in the same seconds. */
  lastSeen: number;
  /** Its own CPU seconds when first and last seen. */
  cpuFirst: number;
  cpuLast: number;
  /** CPU seconds of its reaped children, when last seen (each child's share was added when it was waited for). */
  childCpuFirst: number;
  childCpuLast: number;
  /** In this pid namespace (not a container's). */
  ownNamespace: boolean;
}

export interface DockerEvent {
  at: number;
  action: string;
  name: string;
}

export interface EngineEvent {
  /** When the tail saw it (the event log's own timestamps are whole seconds). */
  at: number;
  /** pre: the step started; outputs: it finished; failed. */
  phase: "pre" | "outputs" | "failed";
  op: string;
  type: string;
  name: string;
}

export interface CpuSample {
  at: number;
  /** CPU seconds used on the whole machine since the previous sample (all cores). */
  busy: number;
  /** The same for Docker's containers (cgroup v1 cpuacct `docker/`). */
  containers: number;
  /** Of this machine's host commands running at that moment. */
  hostCommands: number;
}

export interface Observation {
  seconds: number;
  processes: ProcessSeen[];
  docker: DockerEvent[];
  engine: EngineEvent[];
  cpu: CpuSample[];
  /** CPU seconds of the whole machine and of Docker's containers over the observation. */
  totalCpu: number;
  containerCpu: number;
  /** What this observer itself used. */
  observerCpu: number;
}

/** What a process is, from its argument vector (for the CPU table and the timeline). */
export function kindOf(argv: string[], ownNamespace: boolean): string {
  const line = argv.join(" ");
  const base = (argv[0] ?? "").split("/").pop() ?? "";
  const conductor = argv.findIndex(
    (a) => a.endsWith("/conductor") || a.endsWith("conductor-host.js"),
  );
  if (conductor >= 0 && argv[0] !== "ssh" && !line.includes("jest")) {
    const sub = argv.slice(conductor + 1, conductor + 3).join(" ");
    return sub.startsWith("supervise") ? "conductor supervise" : `conductor ${sub}`;
  }
  if (!ownNamespace) return "in containers (other pid namespaces)";
  if (base === "pulumi") return "pulumi CLI";
  if (base.startsWith("pulumi-language-")) return "pulumi language host";
  if (line.includes("pulumi-resource-fleet") || line.includes("provider/bin"))
    return "fleet provider (node)";
  if (line.includes("@pulumi/pulumi/cmd/run") || line.includes("program.js"))
    return "program (node)";
  if (base === "dockerd") return "dockerd";
  if (base.startsWith("containerd")) return "containerd + shims";
  if (base === "docker-proxy") return "docker-proxy";
  if (base === "docker") return "docker CLI";
  if (line.startsWith("nginx")) return "nginx";
  if (base === "ssh") return "ssh (client)";
  if (base === "sshd" || line.startsWith("sshd")) return "sshd";
  if (line.includes("bench/timeline") || line.includes("bench/observe")) return "this observer";
  return "other";
}

/** A `conductor` subcommand the deploy runs (not the supervisor, not an operator's). */
export function isDeployCommand(p: Pick<ProcessSeen, "kind">): boolean {
  return p.kind.startsWith("conductor ") && p.kind !== "conductor supervise";
}

/** /proc/<pid>/stat: ppid, own and children's CPU ticks, start ticks since boot. */
function readStat(pid: string) {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    ppid: Number(f[1]),
    cpu: (Number(f[11]) + Number(f[12])) / TICKS,
    childCpu: (Number(f[13]) + Number(f[14])) / TICKS,
    startTicks: Number(f[19]),
  };
}

function readArgv(pid: string): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").split("\0");
  } catch {
    return [];
  }
}

function namespaceOf(pid: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** All cores' busy CPU seconds since boot (/proc/stat, idle and iowait excluded). */
function machineBusy(): number {
  const f = fs
    .readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / TICKS;
}

/** CPU seconds of every Docker container since the cgroup was made (charged up the hierarchy, so removed containers stay counted). */
function containersCpu(): number {
  try {
    return Number(fs.readFileSync("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage", "utf8")) / 1e9;
  } catch {
    return 0;
  }
}

const uptime = () => Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);

/**
 * Runs `fn` (given the event log file to pass to `pulumi up --event-log`)
 * while watching the machine; returns what was seen, times in seconds from
 * the start.
 */
export async function observe(eventLog: string, fn: () => Promise<unknown>): Promise<Observation> {
  const ownNs = namespaceOf("self");
  const wall0 = Date.now() / 1000;
  const up0 = uptime();
  const now = () => Date.now() / 1000 - wall0;
  const seen = new Map<string, ProcessSeen>();
  /** Looks at every process once; returns how many host commands of a deploy run. */
  const sampleProcs = (): number => {
    const t = now();
    let hostCommands = 0;
    for (const pid of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = readStat(pid);
      if (!stat) continue;
      const key = `${pid}@${stat.startTicks}`;
      let p = seen.get(key);
      const start = stat.startTicks / TICKS - up0;
      if (!p) {
        const ownNamespace = namespaceOf(pid) === ownNs;
        const argv = readArgv(pid);
        p = {
          pid: Number(pid),
          ppid: stat.ppid,
          argv,
          kind: kindOf(argv, ownNamespace),
          start,
          lastSeen: t,
          // Born during the observation: all its CPU is the observation's.
          cpuFirst: start > 0 ? 0 : stat.cpu,
          cpuLast: stat.cpu,
          childCpuFirst: start > 0 ? 0 : stat.childCpu,
          childCpuLast: stat.childCpu,
          ownNamespace,
        };
        seen.set(key, p);
      } else if (t - p.start < 0.5) {
        // A child seen before its exec has its parent's argv for a moment.
        p.argv = readArgv(pid);
        p.kind = kindOf(p.argv, p.ownNamespace);
      }
      p.lastSeen = t;
      p.cpuLast = stat.cpu;
      p.childCpuLast = stat.childCpu;
      if (isDeployCommand(p)) hostCommands++;
    }
    return hostCommands;
  };

  const docker: DockerEvent[] = [];
  const events = spawn(
    "docker",
    ["events", "--filter", "type=container", "--format", "{{json .}}"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let partial = "";
  events.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as {
          timeNano: number;
          Action: string;
          Actor: { Attributes: { name: string } };
        };
        docker.push({
          at: e.timeNano / 1e9 - wall0,
          action: e.Action,
          name: e.Actor.Attributes.name,
        });
      } catch {
        // not an event line
      }
    }
  });

  const engine: EngineEvent[] = [];
  let logOffset = 0;
  let logPartial = "";
  const tailEngine = () => {
    let text: string;
    try {
      const fd = fs.openSync(eventLog, "r");
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(size - logOffset);
      fs.readSync(fd, buf, 0, buf.length, logOffset);
      fs.closeSync(fd);
      logOffset = size;
      text = logPartial + buf.toString();
    } catch {
      return;
    }
    const lines = text.split("\n");
    logPartial = lines.pop() ?? "";
    const t = now();
    for (const line of lines) engine.push(...engineEventsOf(line, t));
  };

  const cpu: CpuSample[] = [];
  let lastBusy = machineBusy();
  let lastContainers = containersCpu();
  const busy0 = lastBusy;
  const containers0 = lastContainers;
  const self0 = process.cpuUsage();
  const tick = () => {
    const hostCommands = sampleProcs();
    tailEngine();
    const busy = machineBusy();
    const containers = containersCpu();
    const t = now();
    cpu.push({
      at: t,
      busy: busy - lastBusy,
      containers: containers - lastContainers,
      hostCommands,
    });
    lastBusy = busy;
    lastContainers = containers;
  };
  tick();
  const timer = setInterval(tick, SAMPLE_MS);
  try {
    await fn();
  } finally {
    clearInterval(timer);
    tick();
    // docker events prints what happened up to now, shortly after.
    await new Promise((r) => setTimeout(r, 300));
    events.kill();
  }
  const self = process.cpuUsage(self0);
  return {
    seconds: now(),
    processes: [...seen.values()],
    docker,
    engine,
    cpu,
    totalCpu: machineBusy() - busy0,
    containerCpu: containersCpu() - containers0,
    observerCpu: (self.user + self.system) / 1e6,
  };
}

/** The steps of one line of the engine's event log (`pulumi up --event-log`). */
function engineEventsOf(line: string, at: number): EngineEvent[] {
  let e: Record<string, { metadata?: { op: string; urn: string; type: string } }>;
  try {
    e = JSON.parse(line);
  } catch {
    return [];
  }
  const phases = {
    resourcePreEvent: "pre",
    resOutputsEvent: "outputs",
    resOpFailedEvent: "failed",
  } as const;
  const out: EngineEvent[] = [];
  for (const [key, phase] of Object.entries(phases)) {
    const m = e[key]?.metadata;
    if (!m) continue;
    out.push({ at, phase, op: m.op, type: m.type, name: m.urn.split("::").pop() ?? m.urn });
  }
  return out;
}
