// The supervisor at rest: deploys 20 healthy containers here, then samples
// `conductor supervise` (its CPU time and resident memory from /proc) over a
// minute. Not a test: it prints figures.
import * as fs from "node:fs";
import { buildExample } from "../test/e2e/docker";
import { TestStack } from "../test/e2e/harness";

const REVISION = "be0c0a1";
const SAMPLE_SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

function cpuSeconds(pid: number): number {
  // Fields after the command name: utime and stime are the 12th and 13th.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMiB(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function main() {
  await buildExample(REVISION);
  const stack = await TestStack.create("benchsup");
  try {
    await stack.writeConfig({
      "conductor:app": "benchsup",
      "conductor:revision": REVISION,
      "conductor:services": {
        web: {
          image: "conductor-hello",
          replicas: 20,
          http: {
            port: 8080,
            healthCheck: { path: "/health", interval: "100ms", deadline: "60s" },
          },
          stopTimeout: "5s",
        },
      },
    });
    await stack.upOk();
    await new Promise((r) => setTimeout(r, 10_000)); // a couple of passes first
    const pid = Number(fs.readFileSync("/var/lib/conductor/supervise.pid", "utf8"));
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1000));
    const cpu = cpuSeconds(pid) - before;
    console.log(`\nconductor supervise at rest with 20 containers, over ${SAMPLE_SECONDS} s:`);
    console.log(
      `  CPU: ${cpu.toFixed(2)} s (${((100 * cpu) / SAMPLE_SECONDS).toFixed(2)} % of one core)`,
    );
    console.log(`  resident memory: ${rssMiB(pid).toFixed(1)} MiB`);
  } finally {
    await stack.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
