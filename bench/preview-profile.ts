// Where the time of `pulumi preview` of 50 services x 3 replicas x 3 hosts
// goes (issue 11: <= 6 s), rerunnable. Not a test. Hold the machine lock:
//   flock /tmp/conductor-machine.lock node -r esbuild-register bench/preview-profile.ts [options]
// Options:
//   --runs N            timed previews per variant (default 5), interleaved
//   --variant "ARGS"    a variant: extra `pulumi preview` arguments and NAME=value
//                       environment variables, e.g. "--suppress-outputs" or
//                       "PULUMI_DEBUG_PROMISE_LEAKS=1" (repeatable; "" is the
//                       plain preview, the default when none is given)
//   --profile DIR       also one preview with every Node.js process CPU-profiled
//                       (bench/cpu-profile.js: the program, the provider) and
//                       the CLI too (pulumi --profiling); prints a summary of each
//                       and keeps the profiles in DIR (open the .cpuprofile files
//                       in Chrome's DevTools, the CLI's with `go tool pprof`)
// Each figure comes with the 1-minute load average at its start: on this shared
// 2-core machine a figure means little without it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { median, type PreviewTime, previewOf50x3x3 } from "./stacks";

interface Options {
  runs: number;
  variants: string[];
  profileDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 5, variants: [] };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--runs") options.runs = Number(value);
    else if (argv[i] === "--variant") options.variants.push(value);
    else if (argv[i] === "--profile") options.profileDir = path.resolve(value);
    else throw new Error(`unknown option ${argv[i]} (see the head of ${__filename})`);
    i++;
  }
  if (options.variants.length === 0) options.variants.push("");
  return options;
}

const load = () => os.loadavg()[0].toFixed(2);
const ENV_WORD = /^([A-Z_][A-Z0-9_]*)=(.*)$/;
/** A variant's `pulumi preview` arguments and environment variables. */
function parseVariant(variant: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const words = variant.split(" ").filter(Boolean);
  return {
    args: words.filter((w) => !ENV_WORD.test(w)),
    env: Object.fromEntries(
      words.flatMap((w) => {
        const m = ENV_WORD.exec(w);
        return m ? [[m[1], m[2]]] : [];
      }),
    ),
  };
}

// --- V8 CPU profiles (.cpuprofile) ---

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which of our processes a profile is of, by the code it ran. */
function roleOf(profile: CpuProfile): string {
  const urls = profile.nodes.map((n) => n.callFrame.url);
  if (urls.some((u) => u.endsWith("/dist/program.js"))) return "program";
  if (urls.some((u) => u.endsWith("/dist/provider.js"))) return "provider";
  return `other node (${urls.find((u) => u.startsWith("file:")) ?? "?"})`;
}

/** Where a frame's code lives: an npm package, our bundles, Node.js, or V8 itself. */
function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName; // (garbage collector), (program), (idle), (root)
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (pkg) {
    // The SDK by its folder (runtime/, provider/, ...): which of its parts costs.
    if (pkg[1] === "@pulumi/pulumi") return `@pulumi/pulumi/${pkg[2].split("/")[0]}`;
    return pkg[1];
  }
  if (url.startsWith("node:")) return "node:internal";
  return path.relative(process.cwd(), url.replace(/^file:\/\//, ""));
}

const frameName = (f: CallFrame) =>
  `${f.functionName || "(anonymous)"} ${f.url ? `${categoryOf(f)}:${f.lineNumber + 1}` : ""}`;

function top(map: Map<string, number>, count: number, totalMs: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([k, ms]) =>
        `      ${(ms / 1000).toFixed(2).padStart(6)} s ${((100 * ms) / totalMs).toFixed(0).padStart(3)}%  ${k}`,
    );
}

/** Self time by category and by function, inclusive time by function (each once per sample). */
function summarize(profile: CpuProfile, t0: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfByCategory = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") return;
    busyUs += us;
    add(selfByCategory, categoryOf(node.callFrame), us);
    add(selfByFunction, frameName(node.callFrame), us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const name = frameName(byId.get(n)!.callFrame);
      if (!seen.has(name)) add(inclusive, name, us);
      seen.add(name);
    }
  });
  const ms = (us: number) => (us / 1e6).toFixed(2);
  const busyMs = busyUs / 1000;
  const toMs = (m: Map<string, number>) => new Map([...m].map(([k, us]) => [k, us / 1000]));
  return [
    `    from +${ms(profile.startTime - t0)} s to +${ms(profile.endTime - t0)} s (${ms(profile.endTime - profile.startTime)} s), on CPU ${ms(busyUs)} s`,
    "    self time by where the code lives:",
    ...top(toMs(selfByCategory), 15, busyMs),
    "    self time by function:",
    ...top(toMs(selfByFunction), 20, busyMs),
    "    inclusive time by function:",
    ...top(toMs(inclusive), 40, busyMs),
  ];
}

function summarizeNodeProfiles(dir: string): string[] {
  const profiles = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ file: f, profile: JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) }))
    .map(({ file, profile }) => ({ file, profile: profile as CpuProfile }))
    .sort((a, b) => a.profile.startTime - b.profile.startTime);
  if (profiles.length === 0) return ["  no Node.js profile was written"];
  // V8's profile clock is the machine's monotonic clock: one time line for all.
  const t0 = profiles[0].profile.startTime;
  return profiles.flatMap(({ file, profile }) => [
    `  ${roleOf(profile)} (${file}), times from the first Node.js process's start:`,
    ...summarize(profile, t0),
  ]);
}

/** The CLI's profile through `go tool pprof`, if Go is here. */
function summarizeCliProfile(dir: string): string[] {
  const cpu = fs.readdirSync(dir).find((f) => f.endsWith(".cpu"));
  if (!cpu) return ["  no CLI profile was written"];
  const pulumi = execFileSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim();
  try {
    const top = execFileSync(
      "go",
      ["tool", "pprof", "-top", "-nodecount=25", pulumi, path.join(dir, cpu)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    const cum = execFileSync(
      "go",
      ["tool", "pprof", "-top", "-cum", "-nodecount=40", pulumi, path.join(dir, cpu)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    return [`  CLI (${cpu}), by self time:`, top, "  CLI, by cumulative time:", cum];
  } catch (err) {
    return [`  CLI profile in ${path.join(dir, cpu)}; go tool pprof failed: ${String(err)}`];
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const { stack, preview } = await previewOf50x3x3("benchpvprof");
  try {
    await preview(); // the first builds the bundles if a source changed
    const seconds = new Map(options.variants.map((v) => [v, [] as number[]]));
    const cpu = new Map(options.variants.map((v) => [v, [] as number[]]));
    for (let i = 0; i < options.runs; i++) {
      for (const variant of options.variants) {
        const loadAtStart = load();
        const { args, env } = parseVariant(variant);
        const t = await preview(args, env);
        seconds.get(variant)!.push(t.seconds);
        cpu.get(variant)!.push(t.cpuSeconds);
        console.log(
          `  run ${i + 1}: ${t.seconds.toFixed(2)} s, CPU ${t.cpuSeconds.toFixed(2)} s (load ${loadAtStart})  preview ${variant}`.trimEnd(),
        );
      }
    }
    if (options.runs > 0)
      console.log(`\nmedian (min-max) of ${options.runs} runs, seconds, load now ${load()}:`);
    const f = (xs: number[]) =>
      `${median(xs).toFixed(2).padStart(6)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    for (const variant of options.runs > 0 ? options.variants : []) {
      console.log(
        `  ${f(seconds.get(variant)!)}, CPU ${f(cpu.get(variant)!)}  pulumi preview ${variant}`.trimEnd(),
      );
    }
    if (options.profileDir) await profile(options.profileDir, preview);
  } finally {
    await stack.dispose();
  }
}

async function profile(
  dir: string,
  preview: (args?: string[], env?: NodeJS.ProcessEnv) => Promise<PreviewTime>,
) {
  fs.rmSync(dir, { recursive: true, force: true });
  const nodeDir = path.join(dir, "node");
  const cliDir = path.join(dir, "cli");
  fs.mkdirSync(nodeDir, { recursive: true });
  fs.mkdirSync(cliDir, { recursive: true });
  const loadAtStart = load();
  const { seconds: s } = await preview(["--profiling", path.join(cliDir, "pulumi")], {
    NODE_OPTIONS: `--require ${path.join(__dirname, "cpu-profile.js")}`,
    CONDUCTOR_CPU_PROFILE_DIR: nodeDir,
  });
  console.log(`\nprofiled preview: ${s.toFixed(2)} s (load ${loadAtStart}), profiles in ${dir}`);
  console.log(summarizeNodeProfiles(nodeDir).join("\n"));
  console.log(summarizeCliProfile(cliDir).join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
