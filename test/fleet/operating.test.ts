// The operator's commands on the test fleet, from this machine over the
// deploy's SSH (issue 13): `npx conductor releases` after three deploys,
// `status` healthy and with h2's sshd stopped, `logs` merged and `-f` across
// a deploy (new containers join, old ones leave, Ctrl-C leaves nothing on any
// host), and `rollback` restoring the previous revision under fresh-connection
// load through the front LB with zero failed requests, leaving a service with
// its own revision alone.
//
// One fleet and one stack; the tests run in order, each from the state the
// previous one left. `web` (3 hosts x 2) follows conductor:revision; `solo`
// (h1, port 81) sets its own. Not proven here: a declined rollback of a
// stack with secrets in the history (unit tests cover the parsing).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { get } from "../e2e/docker";
import { PROJECT_ROOT, run, type RunResult } from "../e2e/harness";
import { type Fleet, startFleet } from "./fleet";
import { boundedLoad, buildHello, FleetStack, publish } from "./stacks";

const R = { a: "0be0a01", b: "0be0b02", c: "0be0c03" };
const HOSTS = ["h1", "h2", "h3"];
const STACK = "fleetop";

let fleet: Fleet | undefined;
let stack: FleetStack | undefined;
const f = () => fleet ?? fail("the fleet did not start");
const s = () => stack ?? fail("the stack was not created");
function fail(message: string): never {
  throw new Error(message);
}

/** web follows conductor:revision; solo, on h1, keeps its own (R.a). */
function config(revision: string): Record<string, unknown> {
  const c = s().config({
    services: {
      web: { revision, replicas: 2 },
      solo: { revision: R.a, replicas: 1, hosts: ["h1"], listen: 81 },
    },
  });
  delete (c["conductor:services"] as Record<string, Record<string, unknown>>).web.revision;
  return { ...c, "conductor:revision": revision };
}

async function deploy(revision: string): Promise<void> {
  await s().stack.writeConfig(config(revision));
  await s().stack.upOk();
}

/** `npx conductor <args> --stack fleetop --config-file ...`, as an operator types it. */
function conductor(args: string[], input = ""): Promise<RunResult> {
  const stackArgs = ["--stack", STACK, "--config-file", s().stack.configFile];
  return run("node", ["bin/conductor-operator.js", ...args, ...stackArgs], {
    cwd: PROJECT_ROOT,
    env: s().stack.env,
    input,
  });
}

const transcript = (command: string, r: RunResult) =>
  console.log(`$ npx conductor ${command}\n${r.output}(exit ${r.code})`);

async function configRevision(): Promise<string> {
  const r = await s().stack.pulumiOk(["config", "get", "conductor:revision"]);
  return r.stdout.trim();
}

async function expectServing(revision: string): Promise<void> {
  for (let i = 0; i < 9; i++)
    expect(await get(f().frontUrl)).toEqual({ status: 200, body: revision });
}

/** `conductor logs` processes on a host: none once the operator's logs ended. */
async function hostLogProcesses(host: string): Promise<string> {
  return (await f().exec(host, ["pgrep", "-af", "conductor logs"])).stdout.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const building = (async () => {
    for (const revision of Object.values(R)) await buildHello(revision);
  })();
  const [fl] = await Promise.all([startFleet(), building]);
  fleet = fl;
  for (const revision of Object.values(R)) await publish(fl, revision);
  stack = await FleetStack.create(fl, STACK, "op");
});

afterAll(async () => {
  if (stack) fs.rmSync(stack.stack.dir, { recursive: true, force: true }); // the fleet goes entirely
  await fleet?.stop();
});

describe("operating a fleet from one terminal", () => {
  it("releases after three deploys: newest first, the current one marked, images on every host", async () => {
    for (const revision of [R.a, R.b, R.c]) await deploy(revision);
    const r = await conductor(["releases"]);
    transcript("releases --stack fleetop", r);
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^[* ] {2}0be0/.test(l));
    expect(rows.map((l) => l.split(/\s+/).filter(Boolean).slice(0, 2))).toStrictEqual([
      ["*", R.c],
      [R.b, expect.any(String)],
      [R.a, expect.any(String)],
    ]);
    for (const row of rows) {
      expect(row).toContain("succeeded");
      expect(row).toContain(`solo@${R.a}, web`);
      expect(row).toContain("on every host");
    }
    expect(r.stdout).toContain(`deploys ${R.b}, the previous successful revision`);
  });

  it("status: every host and service, healthy, exit 0; --json says the same", async () => {
    const r = await conductor(["status"]);
    transcript("status --stack fleetop", r);
    expect(r.code).toBe(0);
    for (const host of HOSTS)
      expect(r.stdout).toMatch(new RegExp(`^${host} +web +${R.c} +2 +2 +2 +0 +active$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^h1 +solo +${R.a} +1 +1 +1 +0 +active$`, "m"));
    expect(r.stdout).toContain("healthy: 7 containers on 3 hosts");
    const json = await conductor(["status", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ stack: STACK, healthy: true, problems: [] });
  });

  it("status with h2's sshd stopped: h2 listed by name as unreachable, exit 1, no stack trace", async () => {
    await f().stopSshd("h2");
    try {
      const r = await conductor(["status"]);
      transcript("status --stack fleetop   # h2's sshd stopped", r);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^h2 +- +unreachable$/m);
      expect(r.stdout).toContain(
        `h2: unreachable: cannot connect over SSH to root@127.0.0.1:${f().host("h2").sshPort}:`,
      );
      for (const host of ["h1", "h3"])
        expect(r.stdout).toMatch(new RegExp(`^${host} +web +${R.c} +2 +2 +2`, "m"));
      expect(r.output).not.toMatch(/^\s+at /m);
    } finally {
      await f().startSshd("h2");
    }
  });

  it("logs: every container's lines, host/slot prefixed, in time order; --host one host only", async () => {
    const r = await conductor(["logs", "--service", "web", "--tail", "5"]);
    transcript("logs --stack fleetop --service web --tail 5", r);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter(Boolean);
    const prefixes = new Set(lines.map((l) => l.split(" ")[0]));
    expect([...prefixes].sort()).toStrictEqual(["h1/0", "h1/1", "h2/0", "h2/1", "h3/0", "h3/1"]);
    for (const prefix of prefixes)
      expect(lines).toContainEqual(
        expect.stringMatching(`^${prefix} \\S+ .*revision ${R.c}: listening`),
      );
    const times = lines.map((l) => l.split(" ")[1]);
    expect(times).toStrictEqual([...times].sort());
    const h2 = await conductor(["logs", "--service", "web", "--host", "h2"]);
    expect(h2.code).toBe(0);
    expect(
      new Set(
        h2.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(" ")[0]),
      ),
    ).toStrictEqual(new Set(["h2/0", "h2/1"]));
  });

  it("rollback answered no: shows the preview, deploys nothing, the config keeps its revision", async () => {
    const r = await conductor(["rollback"], "n\n");
    transcript("rollback --stack fleetop   # answered n", r);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`conductor:revision ${R.c} -> ${R.b}`);
    expect(r.stdout).toContain(`Left as they are, with their own revision: solo (${R.a}).`);
    expect(r.output).toMatch(/Previewing update/);
    expect(r.stdout).toContain(`Nothing deployed; conductor:revision is ${R.c} again.`);
    expect(await configRevision()).toBe(R.c);
    await expectServing(R.c);
  });

  it("rollback --yes restores the previous revision under load, zero failures; logs -f follows it and Ctrl-C leaves nothing", async () => {
    // The operator's terminal: logs -f in a process group of its own, as a shell's job.
    const follower = spawn(
      "node",
      ["bin/conductor-operator.js", "logs", "--service", "web", "-f", "--tail", "1"].concat([
        "--stack",
        STACK,
        "--config-file",
        s().stack.configFile,
      ]),
      { cwd: PROJECT_ROOT, env: s().stack.env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let followed = "";
    follower.stdout.on("data", (c: Buffer) => (followed += c));
    follower.stderr.on("data", (c: Buffer) => (followed += c));
    const exited = new Promise<number | null>((resolve) => follower.on("close", resolve));
    for (let i = 0; i < 60 && followed.split("\n").length <= 6; i++) await sleep(500);
    expect(followed.split("\n").filter(Boolean)).toHaveLength(6);
    for (const host of HOSTS) expect(await hostLogProcesses(host)).not.toBe("");

    const load = boundedLoad(f().frontUrl, { concurrency: 3, maxMs: 5 * 60_000 });
    let rollback: RunResult;
    try {
      rollback = await conductor(["rollback", "--yes"]);
    } finally {
      const report = await load.stop();
      console.log(
        `load during rollback: ${report.requests} requests in ${(report.ms / 1000).toFixed(1)} s, ` +
          `${report.failures} failed ${JSON.stringify(report.failureReasons)}, answers ${JSON.stringify(report.answers)}`,
      );
      expect(report.cutShort).toBe(false);
      expect(report.failures).toBe(0);
      expect(report.requests).toBeGreaterThan(0);
    }
    transcript("rollback --stack fleetop --yes", rollback);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(`Left as they are, with their own revision: solo (${R.a}).`);
    expect(rollback.stdout).toContain(`Stack ${STACK} runs ${R.b} now`);
    expect(await configRevision()).toBe(R.b);
    await expectServing(R.b);
    const solo = await f().docker("h1", [
      "ps",
      "--filter",
      `label=conductor.service=${s().id("solo")}`,
      "--format",
      "{{.Image}}",
    ]);
    expect(solo.stdout.trim()).toBe(`${f().registry.address}/conductor/hello:${R.a}`);

    // The old containers' last lines and the leaves come after the deploy's last stop.
    await sleep(3000);
    process.kill(-follower.pid!, "SIGINT"); // Ctrl-C: the whole foreground job
    const code = await exited;
    console.log(
      `$ npx conductor logs --stack fleetop --service web -f --tail 1   # during the rollback, then Ctrl-C\n${followed}(exit ${code})`,
    );
    expect(code).toBe(0);
    const lines = followed.split("\n").filter(Boolean);
    const joins = lines.filter((l) => l.includes("-- joined:"));
    const leaves = lines.filter((l) => l.includes("-- left:"));
    expect(joins).toHaveLength(6);
    for (const j of joins) expect(j).toContain(`(revision ${R.b})`);
    expect(leaves).toHaveLength(6);
    for (const prefix of ["h1/0", "h1/1", "h2/0", "h2/1", "h3/0", "h3/1"]) {
      expect(lines).toContainEqual(
        expect.stringMatching(`^${prefix} \\S+ .*revision ${R.b}: listening`),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(`^${prefix} \\S+ .*revision ${R.c}: stopped`),
      );
    }
    // Nothing left running: not on any host, not here.
    for (const host of HOSTS)
      expect({ host, left: await hostLogProcesses(host) }).toEqual({ host, left: "" });
    const here = await run("pgrep", ["-af", `conductor logs --id ${s().id("web")}`]);
    expect(here.stdout.trim()).toBe("");
  });
});
