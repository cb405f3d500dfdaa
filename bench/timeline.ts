// Where the time of one deploy goes (issue 11): deploys N services x R
// replicas on this machine, then changes their revision under observation
// (bench/observe.ts) and prints a timeline: the engine's steps, the host
// commands, Docker's container events, nginx's reloads, and the CPU each kind
// of process used. Not a test. Run it under the machine lock:
//   flock /tmp/conductor-machine.lock node -r esbuild-register bench/timeline.ts
// TIMELINE_SERVICES (10), TIMELINE_REPLICAS (2), TIMELINE_CHANGES (1),
// TIMELINE_UP_ARGS (extra `pulumi up` arguments, e.g. "--parallel 32"),
// TIMELINE_JSON (a file for the raw observation).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT, TestStack } from "../test/e2e/harness";
import { isDeployCommand, type Observation, observe } from "./observe";
import { buildBenchImages, localConfig, REVISIONS } from "./stacks";

const SERVICES = Number(process.env.TIMELINE_SERVICES ?? 10);
const REPLICAS = Number(process.env.TIMELINE_REPLICAS ?? 2);
const CHANGES = Number(process.env.TIMELINE_CHANGES ?? 1);
const UP_ARGS = (process.env.TIMELINE_UP_ARGS ?? "").split(" ").filter(Boolean);
const BOOT_DELAY = process.env.BENCH_BOOT_DELAY ?? "1.5s";
const DRAIN = process.env.BENCH_DRAIN ?? "1s";
const LISTEN_BASE = 18400;

const f2 = (x: number) => x.toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The engine's steps by type and op: how many, first start, last end, median length. */
export function engineSteps(o: Observation): string[] {
  const open = new Map<string, number>();
  const steps = new Map<string, { start: number; end: number }[]>();
  for (const e of o.engine) {
    const key = `${e.type} ${e.op}`;
    if (e.phase === "pre") open.set(`${key} ${e.name}`, e.at);
    else {
      const start = open.get(`${key} ${e.name}`) ?? e.at;
      steps.set(key, [...(steps.get(key) ?? []), { start, end: e.at }]);
    }
  }
  const rows = [...steps].sort((a, b) => a[1][0].start - b[1][0].start);
  return rows.map(([key, list]) => {
    const first = Math.min(...list.map((s) => s.start));
    const last = Math.max(...list.map((s) => s.end));
    const length = median(list.map((s) => s.end - s.start));
    return `  ${key.padEnd(44)} ${String(list.length).padStart(3)}  ${f2(first).padStart(6)} - ${f2(last).padStart(6)}  median ${f2(length)} s`;
  });
}

/** The host commands by subcommand: count, first start, last end, median wall, own CPU. */
export function hostCommands(o: Observation): string[] {
  const byKind = new Map<string, Observation["processes"]>();
  for (const p of o.processes.filter((p) => isDeployCommand(p) && p.start > 0)) {
    byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  }
  return [...byKind]
    .sort((a, b) => Math.min(...a[1].map((p) => p.start)) - Math.min(...b[1].map((p) => p.start)))
    .map(([kind, ps]) => {
      const first = Math.min(...ps.map((p) => p.start));
      const last = Math.max(...ps.map((p) => p.lastSeen));
      const wall = median(ps.map((p) => p.lastSeen - p.start));
      const cpu = sum(ps.map((p) => p.cpuLast - p.cpuFirst));
      return `  ${kind.padEnd(28)} ${String(ps.length).padStart(3)}  ${f2(first).padStart(6)} - ${f2(last).padStart(6)}  median wall ${f2(wall)} s, CPU ${f2(cpu)} s (${f2(cpu / ps.length)} each)`;
    });
}

/** Per container of the deploy: Docker's create, start, kill, die, destroy. */
function containers(o: Observation): string[] {
  const byName = new Map<string, Map<string, number>>();
  for (const e of o.docker) {
    if (!byName.has(e.name)) byName.set(e.name, new Map());
    const actions = byName.get(e.name)!;
    if (!actions.has(e.action)) actions.set(e.action, e.at);
  }
  const show = ["create", "start", "kill", "die", "destroy"];
  const t = (m: Map<string, number>, a: string) => (m.has(a) ? f2(m.get(a)!) : "-").padStart(6);
  return [...byName]
    .sort((a, b) => (a[1].values().next().value ?? 0) - (b[1].values().next().value ?? 0))
    .map(([name, m]) => `  ${name.padEnd(40)} ${show.map((a) => `${a} ${t(m, a)}`).join("  ")}`);
}

/** Health as the deploy saw it: when each new container's record was written (after its health check passed). */
function recordsWritten(since: number): string[] {
  const dir = "/var/lib/conductor/containers";
  const rows: [string, number][] = [];
  for (const f of fs.readdirSync(dir)) {
    const at = fs.statSync(path.join(dir, f)).mtimeMs / 1000 - since;
    if (at > 0 && f.startsWith("timeline_web")) rows.push([f, at]);
  }
  return rows.sort((a, b) => a[1] - b[1]).map(([f, at]) => `  ${f2(at).padStart(6)}  ${f}`);
}

/** nginx reloads: new workers starting together; the old ones' exits (the drain). */
export function nginx(o: Observation): string[] {
  const all = o.processes.filter((p) => p.ownNamespace && p.kind === "nginx");
  const born = all
    .filter((p) => p.start > 0)
    .map((p) => p.start)
    .sort((a, b) => a - b);
  const reloads: number[] = [];
  for (const at of born)
    if (!reloads.length || at - reloads[reloads.length - 1] > 0.3) reloads.push(at);
  const died = all
    .filter((p) => p.lastSeen < o.seconds - 0.1)
    .map((p) => p.lastSeen)
    .sort((a, b) => a - b);
  return [
    `  reloads (new workers born): ${reloads.map(f2).join(", ") || "none"}`,
    `  old workers gone at: ${died.map(f2).join(", ") || "none"}`,
  ];
}

/** CPU seconds by kind of process, against what the machine used in all. */
export function cpuByKind(o: Observation): string[] {
  const byKind = new Map<string, number>();
  for (const p of o.processes)
    byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + p.cpuLast - p.cpuFirst);
  const provider = o.processes.filter((p) => p.kind === "fleet provider (node)");
  const reaped = sum(provider.map((p) => p.childCpuLast - p.childCpuFirst));
  const hostCmds = sum(
    [...byKind]
      .filter(([k]) => k.startsWith("conductor ") && k !== "conductor supervise")
      .map(([, v]) => v),
  );
  const attributed = sum(
    [...byKind].filter(([k]) => k !== "in containers (other pid namespaces)").map(([, v]) => v),
  );
  const lines = [...byKind]
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `  ${f2(v).padStart(7)}  ${k}`);
  return [
    `  ${f2(o.totalCpu).padStart(7)}  the whole machine (/proc/stat), ${f2(o.seconds)} s x ${os.cpus().length} cores = ${f2(o.seconds * os.cpus().length)} available: ${((100 * o.totalCpu) / (o.seconds * os.cpus().length)).toFixed(0)} % busy`,
    `  ${f2(o.containerCpu).padStart(7)}  Docker's containers (cpuacct docker/)`,
    `  ${f2(hostCmds).padStart(7)}  host commands, as sampled (${f2(reaped)} s reaped by the provider: host commands and what they ran)`,
    `  ${f2(o.totalCpu - attributed - o.containerCpu).padStart(7)}  not seen by the sampler (processes shorter than a sample, kernel)`,
    "  by kind, as sampled:",
    ...lines,
    `  (the observer itself: ${f2(o.observerCpu)} s)`,
  ];
}

/** Every 0.5 s: the machine's CPU use (of all cores) and the host commands running. */
export function strip(o: Observation): string[] {
  const cores = os.cpus().length;
  const rows: string[] = [];
  for (let t = 0; t < o.seconds; t += 0.5) {
    const in0 = o.cpu.filter((c) => c.at > t && c.at <= t + 0.5);
    if (!in0.length) continue;
    const busy = sum(in0.map((c) => c.busy)) / 0.5 / cores;
    const cont = sum(in0.map((c) => c.containers)) / 0.5 / cores;
    const cmds = Math.max(...in0.map((c) => c.hostCommands));
    const bar = "#".repeat(Math.round(busy * 20)).padEnd(20);
    rows.push(
      `  ${f2(t).padStart(6)}  cpu ${bar} ${(busy * 100).toFixed(0).padStart(3)}%  containers ${(cont * 100).toFixed(0).padStart(3)}%  host commands ${cmds}`,
    );
  }
  return rows;
}

function report(o: Observation, since: number) {
  const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(
    `\n== pulumi up, revision change, ${SERVICES} services x ${REPLICAS} on host local: ${f2(o.seconds)} s (load average after: ${load}) ==`,
  );
  const sections: [string, string[]][] = [
    [
      "engine steps (type op, count, first start - last end, seconds from `pulumi up`):",
      engineSteps(o),
    ],
    ["host commands (count, first start - last end):", hostCommands(o)],
    ["new containers healthy (their records written):", recordsWritten(since)],
    ["nginx:", nginx(o)],
    ["containers (docker events):", containers(o)],
    ["CPU seconds during the up:", cpuByKind(o)],
    ["every 0.5 s:", strip(o)],
  ];
  for (const [title, lines] of sections) console.log(`\n${title}\n${lines.join("\n")}`);
}

/**
 * `pulumi up --json`, its engine events (one JSON object a line) written to
 * `file` as they come, for observe() to tail (this CLI has no --event-log).
 */
export function upWithEvents(stack: TestStack, file: string): Promise<void> {
  const args = ["up", "--yes", "--skip-preview", "--json", ...UP_ARGS];
  const cli = [
    ...args,
    "--stack",
    stack.name,
    "--config-file",
    stack.configFile,
    "--non-interactive",
  ];
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(file);
    const child = spawn("pulumi", cli, {
      cwd: PROJECT_ROOT,
      env: stack.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stdout.pipe(out);
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`pulumi up failed (${code}):\n${stderr}`)),
    );
  });
}

async function main() {
  await buildBenchImages(BOOT_DELAY, DRAIN);
  const stack = await TestStack.create("timeline");
  try {
    await stack.writeConfig(localConfig("timeline", SERVICES, REPLICAS, REVISIONS[0], LISTEN_BASE));
    await stack.upOk();
    for (let i = 1; i <= CHANGES; i++) {
      await stack.writeConfig(
        localConfig("timeline", SERVICES, REPLICAS, REVISIONS[i % 2], LISTEN_BASE),
      );
      const eventLog = path.join(stack.dir, `events-${i}.jsonl`);
      const since = Date.now() / 1000;
      const o = await observe(eventLog, () => upWithEvents(stack, eventLog));
      report(o, since);
      if (process.env.TIMELINE_JSON)
        fs.writeFileSync(`${process.env.TIMELINE_JSON}.${i}`, JSON.stringify(o));
    }
  } finally {
    await stack.dispose();
  }
}

// Only when run: bench/fleet-timeline.ts imports its sections.
if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
