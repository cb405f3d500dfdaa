// Interleaved A/B of a 10 x 2 revision change: one stack deployed from
// another checkout (AB_BASE, e.g. a worktree of main) and one from this one,
// their changes alternated so a busy minute on the shared machine weighs on
// both alike. Each `up` also reinstalls /usr/local/bin/conductor (the two
// checkouts' bundles differ): both pay that alike. Not a test.
//   AB_BASE=/tmp/base AB_RUNS=3 flock /tmp/conductor-machine.lock node -r esbuild-register bench/ab.ts
import * as fs from "node:fs";
import { PROJECT_ROOT, run, TestStack } from "../test/e2e/harness";

const BASE = process.env.AB_BASE!;
const RUNS = Number(process.env.AB_RUNS ?? 3);
const REVISIONS = ["bed1a01", "bed1b02"];

function config(app: string, revision: string, listenBase: number) {
  const services = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [
      `web${i}`,
      {
        image: "conductor-hello",
        revision,
        hosts: ["local"],
        replicas: 2,
        http: {
          port: 8080,
          healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "30s" },
          nginx: { listen: listenBase + i, serverName: "localhost" },
        },
        stopTimeout: "10s",
      },
    ]),
  );
  return {
    "conductor:app": app,
    "conductor:hosts": { local: { address: "local" } },
    "conductor:services": services,
  };
}

async function up(stack: TestStack, cwd: string): Promise<number> {
  const started = Date.now();
  const args = [
    "up",
    "--yes",
    "--skip-preview",
    "--stack",
    stack.name,
    "--config-file",
    stack.configFile,
    "--non-interactive",
  ];
  const result = await run("pulumi", args, { cwd, env: stack.env });
  if (result.code !== 0) throw new Error(`pulumi up in ${cwd} failed:\n${result.output}`);
  return (Date.now() - started) / 1000;
}

const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

async function main() {
  const sides = [
    {
      name: "base",
      cwd: BASE,
      stack: await TestStack.create("abbase"),
      listen: 18600,
      times: [] as number[],
    },
    {
      name: "this",
      cwd: PROJECT_ROOT,
      stack: await TestStack.create("abthis"),
      listen: 18620,
      times: [] as number[],
    },
  ];
  try {
    for (const s of sides) {
      await s.stack.writeConfig(config(s.stack.name, REVISIONS[0], s.listen));
      await up(s.stack, s.cwd);
    }
    for (let i = 1; i <= RUNS; i++) {
      for (const s of i % 2 ? sides : [...sides].reverse()) {
        await s.stack.writeConfig(config(s.stack.name, REVISIONS[i % 2], s.listen));
        const t = await up(s.stack, s.cwd);
        s.times.push(t);
        console.log(`${s.name} run ${i}: ${t.toFixed(2)} s (load ${load()})`);
      }
    }
  } finally {
    for (const s of sides) await s.stack.dispose();
  }
  for (const s of sides) console.log(`${s.name}: ${s.times.map((t) => t.toFixed(2)).join(" ")}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
