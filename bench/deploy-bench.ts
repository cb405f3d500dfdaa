// How long a deploy takes, each figure beside its floor measured in the same
// run: medians over BENCH_RUNS runs (default 5) of real `pulumi up`s and
// previews on this machine, with an example app that boots in BENCH_BOOT_DELAY
// (default 1.5s) and drains for BENCH_DRAIN (default 1s) on SIGTERM, like a
// real web app. Rows and targets: issue 11, README "Benchmark". The 10 x 2
// change also runs with PULUMI_PARALLEL=64, as the deploy workflow does.
// BENCH_FLEET=1 adds the rows on the test fleet (1 and 3 hosts over SSH, each
// beside a bare swap by hand on the same hosts; starting the fleet takes
// ~15 s, ~2 min more the first time, to build its host image);
// BENCH_ONLY_FLEET=1 runs those rows alone.
// Not a test: numbers on a shared 2-core machine vary; read them, do not assert them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { localBackendUrl, PROJECT_ROOT, run, TestStack } from "../test/e2e/harness";
// Static: under esbuild-register a dynamic import() goes to Node's ESM loader,
// which finds no extensionless "../test/fleet/fleet" (the fleet row never ran).
import { type Fleet, startFleet } from "../test/fleet/fleet";
import {
  FleetStack,
  type FleetStack as FleetStackType,
  imageOf,
  publish,
} from "../test/fleet/stacks";
import { shellJoin } from "../protocol/quote";
import {
  buildBenchImages,
  IMAGE,
  localConfig,
  median,
  previewOf50x3x3,
  REVISIONS,
  timed,
} from "./stacks";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BOOT_DELAY = process.env.BENCH_BOOT_DELAY ?? "1.5s";
const DRAIN = process.env.BENCH_DRAIN ?? "1s";
const WITH_FLEET = process.env.BENCH_FLEET === "1";
/** BENCH_ONLY_FLEET=1: the fleet rows alone (a short run under the shared machine lock). */
const ONLY_FLEET = process.env.BENCH_ONLY_FLEET === "1";
/** BENCH_ONLY_DEPLOYS=1: the bare swaps and the revision changes of 1 and 10 services alone. */
const ONLY_DEPLOYS = process.env.BENCH_ONLY_DEPLOYS === "1";

/** A stack of services on this machine (host `local`), revisions swapped at each `change()`. */
class LocalBench {
  private revision = 0;
  private constructor(
    private readonly stack: TestStack,
    private readonly count: number,
    private readonly listenBase: number,
  ) {}

  /** `env`: more of the environment its `pulumi` commands run in (e.g. PULUMI_PARALLEL). */
  static async create(
    name: string,
    count: number,
    listenBase: number,
    env: Record<string, string> = {},
  ): Promise<LocalBench> {
    const stack = await TestStack.create(name);
    Object.assign(stack.env, env);
    const bench = new LocalBench(stack, count, listenBase);
    await bench.write();
    await bench.stack.upOk();
    return bench;
  }

  private write() {
    return this.stack.writeConfig(
      localConfig(this.stack.name, this.count, 2, REVISIONS[this.revision % 2], this.listenBase),
    );
  }

  async change(): Promise<number> {
    this.revision++;
    await this.write();
    return timed(() => this.stack.upOk());
  }

  noop(): Promise<number> {
    return timed(() => this.stack.upOk());
  }

  dispose() {
    return this.stack.dispose();
  }
}

/**
 * The floor of any `pulumi up` or `preview` here: a Pulumi project whose
 * program declares nothing (CLI, language host, Node.js and the SDK, state).
 * It lives in dist/ (gitignored), under the project, to find its node_modules.
 */
class EmptyProject {
  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(): Promise<EmptyProject> {
    const dir = path.join(PROJECT_ROOT, "dist", "bench-empty-project");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
    );
    fs.writeFileSync(path.join(dir, "index.js"), "// Declares nothing: the floor of a deploy.\n");
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-bench-empty-"));
    const env = {
      ...process.env,
      PULUMI_BACKEND_URL: localBackendUrl(state),
      PULUMI_CONFIG_PASSPHRASE: "bench",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const project = new EmptyProject(dir, env);
    await project.pulumi(["stack", "init", "empty"]);
    await project.pulumi(["up", "--yes", "--skip-preview"]);
    return project;
  }

  async pulumi(args: string[]): Promise<void> {
    const result = await run("pulumi", [...args, "--non-interactive"], {
      cwd: this.dir,
      env: this.env,
    });
    if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${result.output}`);
  }

  up = () => timed(() => this.pulumi(["up", "--yes", "--skip-preview", "--stack", "empty"]));
  preview = () => timed(() => this.pulumi(["preview", "--stack", "empty"]));

  dispose() {
    fs.rmSync(new URL(this.env.PULUMI_BACKEND_URL!).pathname, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const BARE_SWAP_CLEANUP =
  "docker rm -f $(docker ps -aq --filter label=bare-swap) >/dev/null 2>&1; rm -f /etc/nginx/conf.d/bare-swap-*.conf; nginx -s reload";

/** bench/bare-swap.sh: the same swap by hand, `services` x 2, listening from `listen` on. */
class BareSwap {
  private runs = 0;

  constructor(
    private readonly services: number,
    private readonly listen: number,
  ) {}

  async swap(): Promise<number> {
    const script = path.join(__dirname, "bare-swap.sh");
    const image = `${IMAGE}:${REVISIONS[this.runs++ % 2]}`;
    const args = [image, String(this.listen), "2", String(this.services)];
    return timed(async () => execFileSync(script, args));
  }

  /** Removes every bare swap's containers and nginx files. */
  static disposeAll() {
    execFileSync("sh", ["-c", BARE_SWAP_CLEANUP]);
  }
}

/**
 * bench/bare-swap.sh on fleet hosts at once, 1 service x 2 on each, each over
 * its own SSH connection (as a deploy reaches them), with the image the
 * deploys pulled: what the fleet's hosts, sharing this machine's cores, take
 * for the swap alone.
 */
class BareFleetSwap {
  private runs = 0;
  private readonly script = fs.readFileSync(path.join(__dirname, "bare-swap.sh"), "utf8");

  constructor(
    private readonly fleet: Fleet,
    private readonly hosts: string[],
    private readonly listen: number,
  ) {}

  async swap(): Promise<number> {
    const image = `${imageOf(this.fleet)}:${REVISIONS[this.runs++ % 2]}`;
    // Named after its listen port: the 1-host and the 3-host swaps share h1.
    const args = [image, String(this.listen), "2", "1", `fleet${this.listen}`];
    const command = ["bash", "-c", this.script, "bare-swap.sh", ...args];
    return timed(() => Promise.all(this.hosts.map((h) => this.onHost(h, command))));
  }

  /** Removes the bare swaps' containers and nginx files from every host. */
  async dispose() {
    const command = ["sh", "-c", BARE_SWAP_CLEANUP];
    await Promise.all(this.hosts.map((h) => this.onHost(h, command)));
  }

  private async onHost(host: string, argv: string[]) {
    const result = await this.fleet.ssh(host, shellJoin(argv));
    if (result.code !== 0) throw new Error(`bare swap on ${host} failed:\n${result.output}`);
  }
}

/** 1 service x 2 on one fleet host and on three, over SSH, the image pulled from the fleet's registry. */
async function fleetRows(): Promise<Row[]> {
  let fleet: Fleet | undefined;
  const stacks: FleetStackType[] = [];
  const bares: BareFleetSwap[] = [];
  try {
    fleet = await startFleet();
    for (const r of REVISIONS) await publish(fleet, r);
    const one = await FleetStack.create(fleet, "benchf1", "benchf1");
    const three = await FleetStack.create(fleet, "benchf3", "benchf3");
    stacks.push(one, three);
    const deploy = (s: FleetStackType, hosts: string[], i: number) =>
      s.deployOk({
        hosts,
        services: {
          web: { revision: REVISIONS[i % 2], replicas: 2, listen: s === one ? 18500 : 18501 },
        },
      });
    const all = fleet.hosts.map((h) => h.name);
    // The first deploys pull both revisions' images, the first bare swap has no old containers: not measured.
    for (const i of [1, 0]) {
      await deploy(one, ["h1"], i);
      await deploy(three, all, i);
    }
    const bareOne = new BareFleetSwap(fleet, ["h1"], 18502);
    const bareThree = new BareFleetSwap(fleet, all, 18503);
    bares.push(bareOne, bareThree);
    await bareOne.swap();
    await bareThree.swap();
    const figures: Record<"bareOne" | "oneHost" | "bareThree" | "threeHosts", number[]> = {
      bareOne: [],
      oneHost: [],
      bareThree: [],
      threeHosts: [],
    };
    for (let i = 1; i <= RUNS; i++) {
      figures.bareOne.push(await bareOne.swap());
      figures.oneHost.push((await deploy(one, ["h1"], i)) / 1000);
      figures.bareThree.push(await bareThree.swap());
      figures.threeHosts.push((await deploy(three, all, i)) / 1000);
    }
    const bareOneRow: Row = {
      name: "bare swap by hand over SSH, 1 service x 2, 1 fleet host",
      seconds: figures.bareOne,
    };
    const bareThreeRow: Row = {
      name: "bare swap by hand over SSH, 1 service x 2, 3 fleet hosts at once",
      seconds: figures.bareThree,
    };
    const oneRow: Row = {
      name: "revision change, 1 service x 2, 1 fleet host (SSH)",
      seconds: figures.oneHost,
      floor: bareOneRow,
    };
    return [
      bareOneRow,
      oneRow,
      bareThreeRow,
      {
        name: "revision change, 1 service x 2, 3 fleet hosts (SSH)",
        seconds: figures.threeHosts,
        floor: bareThreeRow,
        targets: [
          { plus: 1, of: { row: oneRow, name: "1-host up" }, label: "issue 11" },
          { plus: 1.5 },
        ],
      },
    ];
  } finally {
    for (const b of bares) await b.dispose().catch(() => undefined);
    for (const s of stacks) await s.stack.dispose();
    await fleet?.stop();
  }
}

interface Row {
  name: string;
  seconds: number[];
  /** The row this one is measured against. */
  floor?: Row;
  targets?: Target[];
}

/** At most `atMost` seconds, or at most `of` (by default the floor) + `plus` seconds. */
interface Target {
  plus?: number;
  atMost?: number;
  of?: { row: Row; name: string };
  /** Printed after "target", e.g. where the target comes from. */
  label?: string;
}

function limitOf(row: Row, target: Target): { text: string; limit: number } {
  if (target.atMost !== undefined)
    return { text: `<= ${target.atMost.toFixed(1)} s`, limit: target.atMost };
  const limit = median((target.of?.row ?? row.floor!).seconds) + target.plus!;
  const base = target.of?.name ?? "floor";
  return { text: `<= ${base} + ${target.plus} s = ${limit.toFixed(2)}`, limit };
}

function print(rows: Row[]) {
  const f = (x: number) => x.toFixed(2);
  console.log(
    `\nmedian (min-max) of ${RUNS} runs, seconds; app boots in ${BOOT_DELAY}, drains ${DRAIN}:`,
  );
  for (const r of rows) {
    const m = median(r.seconds);
    console.log(
      `  ${f(m).padStart(6)} (${f(Math.min(...r.seconds))}-${f(Math.max(...r.seconds))})  ${r.name}`,
    );
    const fm = r.floor && median(r.floor.seconds);
    if (r.floor && fm)
      console.log(
        `         floor ${f(fm)} (${r.floor.name}): x${(m / fm).toFixed(2)}, +${f(m - fm)} s`,
      );
    for (const t of r.targets ?? []) {
      const { text, limit } = limitOf(r, t);
      const label = t.label ? ` (${t.label})` : "";
      console.log(`         target${label} ${text}: ${m <= limit ? "met" : "MISSED"}`);
      // Out of reach on this machine: the floor alone (e.g. Docker's own work) misses it.
      if (fm && limit < fm)
        console.log(`           below the floor of this run (${f(fm)} s): out of reach here`);
    }
  }
}

async function main() {
  await buildBenchImages(BOOT_DELAY, DRAIN);
  if (ONLY_FLEET) return print(await fleetRows());
  const rows: Row[] = [];
  const bare = new BareSwap(1, 18300);
  // Its own listen ports, and container ports apart from the 1-service swap's (bare-swap.sh).
  const bareTen = new BareSwap(10, 18340);
  const empty = await EmptyProject.create();
  const one = await LocalBench.create("bench1", 1, 18310);
  const ten = await LocalBench.create("bench10", 10, 18320);
  // Pulumi runs 4 steps per core at once; each container's step lasts its app's boot.
  const tenWide = await LocalBench.create("bench10p", 10, 18350, { PULUMI_PARALLEL: "64" });
  const { stack: pv, preview } = await previewOf50x3x3();
  try {
    // The first of each has no old containers to stop.
    await bare.swap();
    await bareTen.swap();
    const m = {
      bare: [] as number[],
      one: [] as number[],
      bareTen: [] as number[],
      ten: [] as number[],
      tenWide: [] as number[],
      emptyUp: [] as number[],
      noop: [] as number[],
      emptyPreview: [] as number[],
      preview: [] as number[],
    };
    // Interleaved, so a busier minute on this shared machine weighs on each row alike.
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`    run ${i + 1} of ${RUNS}\n`);
      m.bare.push(await bare.swap());
      m.one.push(await one.change());
      m.bareTen.push(await bareTen.swap());
      m.ten.push(await ten.change());
      m.tenWide.push(await tenWide.change());
      if (ONLY_DEPLOYS) continue;
      m.emptyUp.push(await empty.up());
      m.noop.push(await ten.noop());
      m.emptyPreview.push(await empty.preview());
      m.preview.push((await preview()).seconds);
    }
    const bareRow: Row = {
      name: "bare swap by hand (bench/bare-swap.sh), 1 service x 2",
      seconds: m.bare,
    };
    const oneRow: Row = {
      name: "pulumi up, revision change, 1 service x 2",
      seconds: m.one,
      floor: bareRow,
      targets: [{ plus: 1.5 }],
    };
    const bareTenRow: Row = {
      name: "bare swap by hand (bench/bare-swap.sh), 10 services x 2",
      seconds: m.bareTen,
    };
    const emptyUp: Row = { name: "pulumi up of an empty program", seconds: m.emptyUp };
    const emptyPreview: Row = {
      name: "pulumi preview of an empty program",
      seconds: m.emptyPreview,
    };
    rows.push(bareRow, oneRow, bareTenRow, {
      name: "pulumi up, revision change, 10 services x 2",
      seconds: m.ten,
      // Against the bare swap of as many containers, with the 1-service row's margin: 18
      // more containers started and stopped cost Docker seconds on this machine.
      floor: bareTenRow,
      targets: [
        { plus: 1.5 },
        { of: { row: oneRow, name: "1-service up" }, plus: 2, label: "issue 11 as filed" },
      ],
    });
    rows.push({
      name: "pulumi up, revision change, 10 services x 2, PULUMI_PARALLEL=64",
      seconds: m.tenWide,
      floor: bareTenRow,
      targets: [{ plus: 1.5 }],
    });
    if (!ONLY_DEPLOYS)
      rows.push(
        emptyUp,
        {
          name: "pulumi up, no change, 10 services x 2",
          seconds: m.noop,
          floor: emptyUp,
          targets: [{ atMost: 2 }],
        },
        emptyPreview,
        {
          name: "pulumi preview, 50 services x 3 replicas x 3 hosts (hosts not reached)",
          seconds: m.preview,
          floor: emptyPreview,
          targets: [{ atMost: 6 }],
        },
      );
  } finally {
    await Promise.all([one.dispose(), ten.dispose(), tenWide.dispose(), pv.dispose()]);
    BareSwap.disposeAll();
    empty.dispose();
  }
  print(rows);
  if (WITH_FLEET) print(await fleetRows());
  else console.log("\n  (3 hosts x 2 on the test fleet: not run; BENCH_FLEET=1 adds it)");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
