// Where the start of a deploy goes (issue 11): a no-op `pulumi up -v=9 --logtostderr`
// of a stack of STARTUP_SERVICES services (default 1) x 1 replica on this machine,
// STARTUP_RUNS times (default 5); when each event happened, median, from the CLI's log timestamps.
//   flock /tmp/conductor-machine.lock node -r esbuild-register bench/startup-bench.ts
// (after `scripts/test.sh unit` or `scripts/benchmark.sh` prepared the machine and PATH).
// STARTUP_LOG_DIR=<dir> keeps each run's log. Not a test: read the figures, do not assert them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestStack } from "../test/e2e/harness";

const RUNS = Number(process.env.STARTUP_RUNS ?? 5);
const SERVICES = Number(process.env.STARTUP_SERVICES ?? 1);
const LOG_DIR = process.env.STARTUP_LOG_DIR;
const IMAGE_TAG = "0be0a01";

/**
 * Log lines (the CLI's JSON log at -v=9) of each event, and which occurrence.
 * Printed as when each happened after `pulumi` was spawned, not as pieces in a
 * row: the program and the provider start side by side (tooling/warm-up.js).
 */
const EVENTS: [string, RegExp, number][] = [
  ["CLI launches language host #1 (About)", /Launching plugin 'nodejs'/, 1],
  ["CLI launches language host #2 (Run)", /Launching plugin 'nodejs'/, 2],
  [
    "program: the warm-up asks for the fleet provider",
    /ProviderRegistry\.Check\(urn:[^)]*::pulumi:providers:fleet::default\)/,
    1,
  ],
  ["engine launches the fleet provider", /Launching plugin 'fleet \(resource\)'/, 1],
  ["provider: answers", /Provider\[0x[0-9a-f]+\]\.GetPluginInfo\(\) executing/, 1],
  [
    "program: node + SDK until the stack registers",
    /RegisterResource received: t=pulumi:pulumi:Stack/,
    1,
  ],
  ["program: its first fleet resource", /RegisterResource received: t=fleet:index:/, 1],
  ["first resource operation (Check)", /Provider\[0x[0-9a-f]+\]\.Check\(urn:[^)]*\$fleet:/, 1],
];

/** Seconds after the spawn of `pulumi` at which each event happened in one run, and its exit. */
function eventTimes(log: string, spawned: number, exited: number): number[] {
  const lines = log.split("\n");
  const times = EVENTS.map(([name, pattern, occurrence]) => {
    const matching = lines.filter((line) => pattern.test(line));
    if (matching.length < occurrence) throw new Error(`no log line for "${name}" (${pattern})`);
    return (Date.parse(JSON.parse(matching[occurrence - 1]).time) - spawned) / 1000;
  });
  return [...times, (exited - spawned) / 1000];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (LOG_DIR) fs.mkdirSync(LOG_DIR, { recursive: true });
  const stack = await TestStack.create("startupbench");
  try {
    await stack.writeConfig({
      "conductor:app": "startupbench",
      "conductor:hosts": { local: { address: "local" } },
      "conductor:services": Object.fromEntries(
        Array.from({ length: SERVICES }, (_, i) => [
          `web${i}`,
          {
            image: "conductor-hello",
            revision: IMAGE_TAG,
            hosts: ["local"],
            replicas: 1,
            http: {
              port: 8080,
              healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "30s" },
              nginx: { listen: 18600 + i, serverName: "localhost" },
            },
            stopTimeout: "10s",
          },
        ]),
      ),
    });
    await stack.upOk();
    const runs: number[][] = [];
    const loads: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      loads.push(os.loadavg()[0]);
      const spawned = Date.now();
      const result = await stack.pulumiOk([
        "up",
        "--yes",
        "--skip-preview",
        "-v=9",
        "--logtostderr",
      ]);
      const exited = Date.now();
      if (LOG_DIR) fs.writeFileSync(path.join(LOG_DIR, `run${i}.log`), result.stderr);
      runs.push(eventTimes(result.stderr, spawned, exited));
    }
    const names = [...EVENTS.map(([name]) => name), "the whole no-op pulumi up ends"];
    console.log(
      `\nno-op pulumi up -v=9 --logtostderr, ${SERVICES} service(s) x 1, local; ` +
        `seconds after the spawn of pulumi, median of ${RUNS}; load average ${loads.map((l) => l.toFixed(1)).join(", ")}`,
    );
    names.forEach((name, i) =>
      console.log(
        `| ${name.padEnd(50)} | ${median(runs.map((r) => r[i])).toFixed(2)} | ` +
          `${runs.map((r) => r[i].toFixed(2)).join(" ")}`,
      ),
    );
  } finally {
    await stack.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
