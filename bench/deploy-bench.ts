// How long a deploy takes, and against what: prints medians over BENCH_RUNS
// runs (default 5) of real `pulumi up`s on this machine, beside the bare
// minimum of the same swap done by a short script (bench/bare-swap.sh).
// Not a test: numbers on a shared 2-core machine vary; read them, do not assert them.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { buildExample } from "../test/e2e/docker";
import { TestStack } from "../test/e2e/harness";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REVISIONS = ["be0c0a1", "be0c0b2"];
const BARE_LISTEN = 18300;

interface Row {
  name: string;
  seconds: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function services(
  count: number,
  replicas: number,
  hosts: string[],
  revision: string,
  listenBase: number,
) {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `web${i}`,
      {
        image: "conductor-hello",
        revision,
        hosts,
        replicas,
        http: {
          port: 8080,
          healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "20s" },
          nginx: { listen: listenBase + i, serverName: "localhost" },
        },
        stopTimeout: "10s",
      },
    ]),
  );
}

async function deployBench(name: string, count: number, listenBase: number): Promise<Row[]> {
  const stack = await TestStack.create(name);
  const config = (revision: string) => ({
    "conductor:app": name,
    "conductor:hosts": { local: { address: "local" } },
    "conductor:services": services(count, 2, ["local"], revision, listenBase),
  });
  try {
    await stack.writeConfig(config(REVISIONS[0]));
    await stack.upOk();
    const change: number[] = [];
    const noop: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      await stack.writeConfig(config(REVISIONS[i % 2]));
      change.push(await timed(() => stack.upOk()));
      noop.push(await timed(() => stack.upOk()));
    }
    return [
      { name: `pulumi up, revision change, ${count} service(s) x 2`, seconds: change },
      { name: `pulumi up, no change, ${count} service(s) x 2`, seconds: noop },
    ];
  } finally {
    await stack.dispose();
  }
}

async function bareBench(): Promise<Row> {
  const script = path.join(__dirname, "bare-swap.sh");
  const seconds: number[] = [];
  try {
    for (let i = 0; i <= RUNS; i++) {
      const t = await timed(async () =>
        execFileSync(script, [`conductor-hello:${REVISIONS[i % 2]}`, String(BARE_LISTEN), "2"]),
      );
      if (i > 0) seconds.push(t); // the first run has no old containers to stop
    }
  } finally {
    execFileSync("sh", [
      "-c",
      "docker rm -f $(docker ps -aq --filter label=bare-swap) >/dev/null 2>&1; rm -f /etc/nginx/conf.d/bare-swap.conf; nginx -s reload",
    ]);
  }
  return { name: "bare minimum swap (bench/bare-swap.sh), 1 service x 2", seconds };
}

async function previewBench(): Promise<Row> {
  const stack = await TestStack.create("benchpv");
  const hosts = {
    h1: { address: "10.255.0.1" },
    h2: { address: "10.255.0.2" },
    h3: { address: "10.255.0.3" },
  };
  try {
    await stack.writeConfig({
      "conductor:app": "benchpv",
      "conductor:hosts": hosts,
      "conductor:services": services(50, 3, Object.keys(hosts), REVISIONS[0], 20000),
    });
    const seconds: number[] = [];
    for (let i = 0; i < RUNS; i++) seconds.push(await timed(() => stack.pulumiOk(["preview"])));
    return {
      name: "pulumi preview, 50 services x 3 replicas x 3 hosts (hosts not reached)",
      seconds,
    };
  } finally {
    await stack.dispose();
  }
}

async function main() {
  await Promise.all(REVISIONS.map((r) => buildExample(r)));
  const rows = [
    ...(await deployBench("bench1", 1, 18310)),
    ...(await deployBench("bench5", 5, 18320)),
    await bareBench(),
    await previewBench(),
  ];
  console.log(`\nmedian (min-max) of ${RUNS} runs, seconds:`);
  for (const r of rows) {
    const fmt = (x: number) => x.toFixed(2);
    console.log(
      `  ${fmt(median(r.seconds)).padStart(6)}  (${fmt(Math.min(...r.seconds))}-${fmt(Math.max(...r.seconds))})  ${r.name}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
