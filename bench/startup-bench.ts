// Where the start of a deploy goes (issue 11): a no-op `pulumi up -v=9 --logtostderr`
// of a stack of STARTUP_SERVICES services (default 1) x 1 replica on this machine,
// STARTUP_RUNS times (default 5); each piece's median from the CLI's log timestamps.
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

/** Log lines (the CLI's JSON log at -v=9) that end each piece, in order. */
const MARKS: [string, RegExp][] = [
  ["CLI until it launches the language host", /Launching plugin 'nodejs'/],
  ["language host #1 (About): start", /langhost\[nodejs\]\.About\(\) executing/],
  ["  ... until the CLI launches #2", /Launching plugin 'nodejs'/],
  ["language host #2: start, required plugins", /langhost\[nodejs\]\.Run\(/],
  [
    "program: node + SDK until the stack registers",
    /RegisterResource received: t=pulumi:pulumi:Stack/,
  ],
  ["program: index.ts until its first resource", /Launching plugin 'fleet \(resource\)'/],
  ["provider: start until it answers", /Provider\[0x[0-9a-f]+\]\.GetPluginInfo\(\) executing/],
  ["  ... until the first resource operation", /Provider\[0x[0-9a-f]+\]\.Check\(urn:[^)]*\$fleet:/],
];

/** Seconds each piece took in one run, from the spawn of `pulumi` to its exit. */
function pieces(log: string, spawned: number, exited: number): number[] {
  const lines = log.split("\n");
  const times: number[] = [spawned];
  let at = 0;
  for (const [name, pattern] of MARKS) {
    while (at < lines.length && !pattern.test(lines[at])) at++;
    if (at === lines.length) throw new Error(`no log line for "${name}" (${pattern})`);
    times.push(Date.parse(JSON.parse(lines[at]).time));
    at++;
  }
  const seconds = times.slice(1).map((t, i) => (t - times[i]) / 1000);
  return [...seconds, (times[times.length - 1] - spawned) / 1000, (exited - spawned) / 1000];
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
      runs.push(pieces(result.stderr, spawned, exited));
    }
    const names = [
      ...MARKS.map(([name]) => name),
      "**pulumi up -> first resource operation**",
      "the whole no-op pulumi up",
    ];
    console.log(
      `\nno-op pulumi up -v=9 --logtostderr, ${SERVICES} service(s) x 1, local; ` +
        `median of ${RUNS}, seconds; load average ${loads.map((l) => l.toFixed(1)).join(", ")}`,
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
