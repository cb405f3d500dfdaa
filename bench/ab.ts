// Interleaved A/B of a 10 x 2 revision change: one stack deployed from
// another checkout (AB_BASE, e.g. a worktree of main) and one from this one,
// their changes alternated so a busy minute on the shared machine weighs on
// both alike. Each `up` also reinstalls /usr/local/bin/conductor (the two
// checkouts' bundles differ): both pay that alike. Not a test.
//   AB_BASE=/tmp/base AB_RUNS=3 flock /tmp/conductor-machine.lock node -r esbuild-register bench/ab.ts
import * as fs from "node:fs";
import { PROJECT_ROOT, run, TestStack } from "../test/e2e/harness";
import { localConfig, REVISIONS } from "./stacks";

const BASE = process.env.AB_BASE!;
const RUNS = Number(process.env.AB_RUNS ?? 3);

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
      await s.stack.writeConfig(localConfig(s.stack.name, 10, 2, REVISIONS[0], s.listen));
      await up(s.stack, s.cwd);
    }
    for (let i = 1; i <= RUNS; i++) {
      for (const s of i % 2 ? sides : [...sides].reverse()) {
        await s.stack.writeConfig(localConfig(s.stack.name, 10, 2, REVISIONS[i % 2], s.listen));
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
