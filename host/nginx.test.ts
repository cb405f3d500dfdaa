// `nginx apply|remove` against a fake nginx (scripted `nginx -t`, /proc
// scans), a temp conf dir and the real socket locks (the batch's requesters
// and its leader tell each other apart by them): one change alone, several
// in one batch, a bad one among them, and a leader killed mid-batch (a real
// process, SIGKILLed). Not proven here: nginx's own reload semantics (the
// e2e zero-downtime and nginx-batch tests measure them).
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ExecResult } from "./exec";
import { type FakeHost, fakeHost, START } from "./fakes.testutil";
import { socketLocks } from "./lock";
import { HOLD_DRAIN_MS, nginxApply, type NginxEffects, nginxHolds, nginxRemove } from "./nginx";
import { ARRIVAL_MS, type DeployActivity, GATHER_MAX_MS, SETTLE_MS } from "./nginx-batch";
import { LOCKS } from "./store";

const ID = "shop_web_production";
const CONFIG = "upstream shop { server 127.0.0.1:20000; }\n";
const QUIET: DeployActivity = { containerUps: 0, nginxRequests: 0, recordsWritten: new Map() };

let host: FakeHost;
let fx: NginxEffects;
let file: string;
let activity: () => DeployActivity;
beforeEach(() => {
  host = fakeHost();
  activity = () => QUIET;
  fx = {
    ...host.fx,
    locks: socketLocks(path.join(host.dir, "locks")),
    deployActivity: () => activity(),
  };
  file = confFile(ID);
});
afterEach(() => host.cleanup());

/** A new generation of nginx workers after each reload, however many there are. */
function newWorkersAtEachReload() {
  let generation = 1;
  const exec = fx.exec;
  fx.exec = async (program, args) => {
    if (args[0] === "-s") generation++;
    return exec(program, args);
  };
  fx.nginxWorkers = () => ({ running: [generation], draining: 0 });
}

const confFile = (id: string) => host.fx.nginxConfDir.path(`conductor-${id}.conf`);
const execs = () => host.trace.filter((t) => t.startsWith("exec "));
const apply = (config = CONFIG, id = ID) => nginxApply({ serviceId: id, config }, host.logLine, fx);
const reject = () =>
  host.programs.set("nginx -t", {
    code: 1,
    stdout: "",
    stderr: 'nginx: [emerg] unknown directive "upstrem"\n',
  });
/** `nginx -t` fails while any file holds `upstrem`, naming it as nginx does. */
const checkFiles = () => {
  const exec = fx.exec;
  fx.exec = async (program, args) => {
    const result = await exec(program, args);
    if (args[0] !== "-t") return result;
    const dir = host.fx.nginxConfDir.dir;
    const bad = fs
      .readdirSync(dir)
      .find((f) => fs.readFileSync(path.join(dir, f), "utf8").includes("upstrem"));
    if (!bad) return result;
    return {
      code: 1,
      stdout: "",
      stderr: `nginx: [emerg] unknown directive "upstrem" in ${path.join(dir, bad)}:1\nnginx: configuration file /etc/nginx/nginx.conf test failed\n`,
    } satisfies ExecResult;
  };
};

/** What the batch leaves in the store once every requester has its answer: nothing. */
const batchLeftovers = () =>
  ["pending", "claimed", "answers", "journal.json"].flatMap((f) => {
    const p = path.join(host.store.root, "nginx-batch", f);
    return !fs.existsSync(p) ? [] : fs.statSync(p).isDirectory() ? fs.readdirSync(p) : [f];
  });

describe("nginx apply, alone", () => {
  it("writes the file, checks, reloads and waits for the old workers to go", async () => {
    host.workerScans = [
      { running: [11, 12], draining: 0 }, // before the reload
      { running: [11, 12], draining: 0 }, // not reloaded yet
      { running: [21, 22], draining: 1 }, // new workers, an old one finishing
      { running: [21, 22], draining: 0 },
    ];
    const started = host.clock.now;
    await apply();
    expect(fs.readFileSync(file, "utf8")).toBe(CONFIG);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    // Two 50 ms waits for the workers; none to gather a batch, with no other deploy under way.
    expect(host.clock.now - started).toBe(100);
    expect(host.workerScans).toHaveLength(1);
    expect(host.log).toEqual([`${file}: installed, nginx reloaded`]);
    expect(batchLeftovers()).toEqual([]);
  });

  it("reloads even when the file already has this content (a deploy killed before reloading)", async () => {
    fs.writeFileSync(file, CONFIG);
    await apply();
    expect(execs()).toContain("exec nginx -s reload");
  });

  it("puts the previous file back and does not reload when nginx -t fails", async () => {
    fs.writeFileSync(file, "previous\n");
    checkFiles();
    await expect(apply("upstrem broken;\n")).rejects.toThrow(
      new Error(
        `nginx -t rejected ${file}; the previous file is back in place:\nnginx: [emerg] unknown directive "upstrem" in ${file}:1\nnginx: configuration file /etc/nginx/nginx.conf test failed`,
      ),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous\n");
    // With the change, then without it: what nginx rejects is the change.
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -t"]);
    expect(batchLeftovers()).toEqual([]);
  });

  it("removes a new file that nginx -t rejects", async () => {
    checkFiles();
    await expect(apply("upstrem broken;\n")).rejects.toThrow("nginx -t rejected");
    expect(fs.readdirSync(host.fx.nginxConfDir.dir)).toEqual([]);
  });

  it("fails when the reload fails, with nginx's message, and puts the previous file back", async () => {
    fs.writeFileSync(file, "previous\n");
    host.programs.set("nginx -s reload", { code: 1, stdout: "", stderr: "nginx: no master\n" });
    await expect(apply()).rejects.toThrow(
      new Error("nginx -s failed (exit 1): nginx: no master; the previous files are back in place"),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous\n");
  });

  it("runs nginx -t and nginx -s reload with a timeout: a hung nginx must not hold the host's nginx lock for good", async () => {
    const timeouts: string[] = [];
    const exec = fx.exec;
    fx.exec = (program, args, options) => {
      timeouts.push(`${program} ${args.join(" ")}: ${options?.timeoutMs}`);
      return exec(program, args, options);
    };
    await apply();
    expect(timeouts).toEqual(["nginx -t: 60000", "nginx -s reload: 60000"]);
  });

  it("goes on after 60 s when old workers still drain, and says so", async () => {
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 1 },
    ];
    await apply();
    expect(host.log).toEqual([
      "nginx: old workers still draining after 60s, going on",
      `${file}: installed, nginx reloaded`,
    ]);
  });

  it("fails, putting the previous file back, when no worker of the new configuration starts within 60 s", async () => {
    fs.writeFileSync(file, "previous\n");
    host.workerScans = [{ running: [11, 12], draining: 0 }]; // the master kept its workers
    await expect(apply()).rejects.toThrow(
      new Error(
        "nginx did not start workers of the new configuration within 60 s; see nginx's error log; the previous files are back in place",
      ),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous\n");
    expect(host.log).toEqual([]);
  });
});

describe("nginx apply, gathering a batch (the fake clock moves only when slept on)", () => {
  /** When, since the start, nginx -t ran: the batch was committed. */
  let committedAt: number | undefined;
  beforeEach(() => {
    committedAt = undefined;
    const exec = fx.exec;
    fx.exec = async (program, args) => {
      if (args[0] === "-t") committedAt ??= host.clock.now - START;
      return exec(program, args);
    };
  });

  it(`commits after ${GATHER_MAX_MS / 1000} s at most while another deploy stays busy`, async () => {
    activity = () => ({ ...QUIET, containerUps: 1 });
    await apply();
    expect(committedAt).toBe(GATHER_MAX_MS);
  });

  it(`commits ${SETTLE_MS} ms after the last look that saw a container up running`, async () => {
    // The leader looks every 100 ms: the last busy look is at 900 ms.
    activity = () => ({ ...QUIET, containerUps: host.clock.now - START < 1_000 ? 1 : 0 });
    await apply();
    expect(committedAt).toBe(900 + SETTLE_MS);
  });

  it(`commits ${ARRIVAL_MS} ms after conductor serve started its last nginx request`, async () => {
    activity = () => ({ ...QUIET, nginxRequestStartedHere: START + 250 });
    await apply();
    // Looks every 100 ms: at 300 it came 50 ms ago, at 400 150 ms ago.
    expect(committedAt).toBe(400);
  });

  it(`commits ${SETTLE_MS} ms after another service's container record was written`, async () => {
    const written = new Map([["shop_other_production", START + 450]]);
    activity = () => ({ ...QUIET, recordsWritten: written });
    await apply();
    // The first look at or past 450 + SETTLE_MS.
    expect(committedAt).toBe(700);
  });
});

describe("nginx remove", () => {
  it("removes the file and reloads", async () => {
    fs.writeFileSync(file, CONFIG);
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 0 },
    ];
    await nginxRemove({ serviceId: ID }, host.logLine, fx);
    expect(fs.existsSync(file)).toBe(false);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    expect(host.log).toEqual([`${file}: removed, nginx reloaded`]);
  });

  it("does not reload when there is no file", async () => {
    await nginxRemove({ serviceId: ID }, host.logLine, fx);
    expect(execs()).toEqual(["exec nginx -t"]);
    expect(host.log).toEqual([]);
  });
});

describe("nginx apply, several services at once", () => {
  const IDS = ["shop_a_production", "shop_b_production", "shop_c_production"];
  const configOf = (id: string) => `upstream ${id} { server 127.0.0.1:20000; }\n`;

  beforeEach(() => {
    // Real time: the requesters poll and the leader gathers while they arrive.
    fx.clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    // A deploy under way (a `container up` running) until all three have asked.
    activity = () => ({ ...QUIET, containerUps: pending() < IDS.length ? 1 : 0 });
    newWorkersAtEachReload();
  });
  const pending = () => {
    const dir = path.join(host.store.root, "nginx-batch", "pending");
    return fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
  };
  /** Each asks 100 ms after the one before, as services whose containers are healthy at different times do. */
  const staggered = <T>(ask: (id: string, i: number) => Promise<T>) =>
    IDS.map((id, i) => new Promise((r) => setTimeout(r, 100 * i)).then(() => ask(id, i)));

  it("installs them all with one nginx -t, one reload and one wait for the old workers", async () => {
    await Promise.all(staggered((id) => apply(configOf(id), id)));
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    for (const id of IDS) expect(fs.readFileSync(confFile(id), "utf8")).toBe(configOf(id));
    expect(host.log.sort()).toEqual(
      IDS.map(
        (id) => `${confFile(id)}: installed, nginx reloaded (one reload for 3 sites of this host)`,
      ),
    );
    expect(batchLeftovers()).toEqual([]);
  });

  it("fails only the service nginx -t rejects, naming its file, and reloads the others once", async () => {
    checkFiles();
    fs.writeFileSync(confFile(IDS[1]), "previous of b\n");
    const results = await Promise.allSettled(
      staggered((id, i) => apply(i === 1 ? "upstrem broken;\n" : configOf(id), id)),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe(
      `nginx -t rejected ${confFile(IDS[1])}; the previous file is back in place:\nnginx: [emerg] unknown directive "upstrem" in ${confFile(IDS[1])}:1\nnginx: configuration file /etc/nginx/nginx.conf test failed`,
    );
    expect(fs.readFileSync(confFile(IDS[1]), "utf8")).toBe("previous of b\n");
    expect(fs.readFileSync(confFile(IDS[0]), "utf8")).toBe(configOf(IDS[0]));
    expect(fs.readFileSync(confFile(IDS[2]), "utf8")).toBe(configOf(IDS[2]));
    // The batch, then each change on its own in the order they came, then one reload.
    expect(execs().filter((e) => e === "exec nginx -s reload")).toHaveLength(1);
    // The batch, the files before it, then each of the three.
    expect(execs().filter((e) => e === "exec nginx -t")).toHaveLength(5);
    expect(batchLeftovers()).toEqual([]);
  });

  it("puts every file of the batch back and reloads nothing when nginx -t fails whatever the batch holds", async () => {
    reject(); // e.g. a broken nginx.conf
    fs.writeFileSync(confFile(IDS[0]), "previous of a\n");
    const results = await Promise.allSettled(staggered((id) => apply(configOf(id), id)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason.message).toBe(
        `nginx -t fails on this host's configuration before this deploy's changes: nginx: [emerg] unknown directive "upstrem"`,
      );
    }
    expect(fs.readdirSync(host.fx.nginxConfDir.dir)).toEqual([`conductor-${IDS[0]}.conf`]);
    expect(fs.readFileSync(confFile(IDS[0]), "utf8")).toBe("previous of a\n");
    // The batch, then the files before it; no change is checked on its own.
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -t"]);
  });
});

describe("a leader killed mid-batch", () => {
  const DEAD = "shop_dead_production";
  const LIVE = "shop_live_production";
  let leader: ChildProcess | undefined;
  afterEach(() => leader?.kill("SIGKILL"));

  /**
   * Another conductor process asking for DEAD's change: it leads (it takes
   * the free nginx lock), holds its batch open while `go` is missing (a
   * deploy still under way), and hangs in `nginx -s reload`.
   */
  async function startLeader(): Promise<ChildProcess> {
    const script = `
      const path = require("node:path");
      const { fakeHost } = require("./host/fakes.testutil");
      const { socketLocks } = require("./host/lock");
      const { HostStore } = require("./host/store");
      const { ConfDir } = require("./host/files");
      const { nginxApply } = require("./host/nginx");
      const [dir, id] = process.argv.slice(1);
      const host = fakeHost();
      const fx = {
        ...host.fx,
        store: new HostStore(path.join(dir, "state")),
        nginxConfDir: new ConfDir(path.join(dir, "nginx"), 0o644),
        locks: socketLocks(path.join(dir, "locks")),
        clock: { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
        deployActivity: () => ({ containerUps: require("node:fs").existsSync(path.join(dir, "go")) ? 0 : 1, nginxRequests: 0, recordsWritten: new Map() }),
        exec: async (file, args) => {
          if (args[0] !== "-s") return { code: 0, stdout: "", stderr: "" };
          console.log("reloading");
          return new Promise(() => setInterval(() => {}, 1000));
        },
      };
      nginxApply({ serviceId: id, config: "upstream dead { server 127.0.0.1:29999; }\\n" }, () => {}, fx);`;
    const child = spawn(
      process.execPath,
      ["-r", "esbuild-register", "-e", script, host.dir, DEAD],
      {
        cwd: path.join(__dirname, ".."),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    return child;
  }

  const said = (child: ChildProcess, line: string) =>
    new Promise<void>((resolve) =>
      child.stdout!.on("data", (d: Buffer) => d.toString().includes(line) && resolve()),
    );

  beforeEach(() => {
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 0 },
    ];
  });

  it("loses no live requester's change: the next leader puts the dead one's files back, drops its change, makes the others", async () => {
    fx.clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    fs.writeFileSync(confFile(DEAD), "previous of dead\n");
    fs.writeFileSync(confFile(LIVE), "previous of live\n");
    leader = await startLeader();
    const locked = path.join(host.dir, "locks", "nginx.sock");
    while (!fs.existsSync(locked)) await new Promise((r) => setTimeout(r, 20));
    // Our request waits for the leader, which holds its batch open for it.
    const live = apply("upstream live { server 127.0.0.1:20001; }\n", LIVE);
    const pendingDir = path.join(host.store.root, "nginx-batch", "pending");
    while (!(fs.existsSync(pendingDir) && fs.readdirSync(pendingDir).length === 2)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const reloading = said(leader, "reloading");
    fs.writeFileSync(path.join(host.dir, "go"), "");
    await reloading;
    // Both changes are installed, and nginx is being reloaded, when the leader dies.
    expect(fs.readFileSync(confFile(DEAD), "utf8")).toContain("dead");
    expect(fs.readFileSync(confFile(LIVE), "utf8")).toContain("live");
    const exited = new Promise((r) => leader!.once("exit", r));
    leader.kill("SIGKILL");
    await exited;

    await live;
    expect(fs.readFileSync(confFile(LIVE), "utf8")).toBe(
      "upstream live { server 127.0.0.1:20001; }\n",
    );
    expect(fs.readFileSync(confFile(DEAD), "utf8")).toBe("previous of dead\n");
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    expect(host.log).toEqual([
      `nginx: a batch left unfinished (its process died, or its nginx -t or reload failed) changed ${confFile(DEAD)}, ${confFile(LIVE)}; put the previous files back`,
      `nginx: dropped the change of ${DEAD}: the deploy that asked for it is gone`,
      `${confFile(LIVE)}: installed, nginx reloaded`,
    ]);
    expect(batchLeftovers()).toEqual([]);
  });

  it("reloads after putting the dead leader's files back even with no change left to make", async () => {
    fs.mkdirSync(path.join(host.store.root, "nginx-batch"), { recursive: true });
    fs.writeFileSync(
      path.join(host.store.root, "nginx-batch", "journal.json"),
      JSON.stringify({ [`conductor-${DEAD}.conf`]: null }),
    );
    fs.writeFileSync(confFile(DEAD), "what the dead leader wrote\n");
    await nginxRemove({ serviceId: "shop_other_production" }, host.logLine, fx);
    expect(fs.existsSync(confFile(DEAD))).toBe(false);
    // nginx may run what the dead leader wrote: it must run the files again.
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
  });

  it("reloads, and names no file, after a batch that died or failed before reloading changed none", async () => {
    fs.mkdirSync(path.join(host.store.root, "nginx-batch"), { recursive: true });
    fs.writeFileSync(path.join(host.store.root, "nginx-batch", "journal.json"), "{}");
    await nginxRemove({ serviceId: "shop_other_production" }, host.logLine, fx);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    expect(host.log[0]).toBe(
      "nginx: a batch left unfinished may not have reloaded nginx; reloading it",
    );
    expect(batchLeftovers()).toEqual([]);
  });

  it("still reloads after putting the dead leader's files back when its own commit throws", async () => {
    fs.mkdirSync(path.join(host.store.root, "nginx-batch"), { recursive: true });
    fs.writeFileSync(
      path.join(host.store.root, "nginx-batch", "journal.json"),
      JSON.stringify({ [`conductor-${DEAD}.conf`]: null }),
    );
    fs.writeFileSync(confFile(DEAD), "what the dead leader wrote\n");
    // Before the commit writes its own journal: nothing of its own to put back.
    jest.spyOn(fx.nginxConfDir, "read").mockImplementationOnce(() => {
      throw new Error("EIO: i/o error, read");
    });
    await expect(apply()).rejects.toThrow(new Error("EIO: i/o error, read"));
    expect(fs.existsSync(confFile(DEAD))).toBe(false);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    expect(batchLeftovers()).toEqual([]);
  });
});

describe("holds (the supervisor's replicas kept out of rotation until healthy)", () => {
  const SITE = [
    "upstream conductor_shop {",
    "    server 127.0.0.1:20001 max_fails=0;",
    "    server 127.0.0.1:20002 max_fails=0;",
    "}",
    "",
  ].join("\n");
  const HELD_20002 = SITE.replace(
    "20002 max_fails=0;",
    "20002 max_fails=0 backup; # held out by conductor supervise until it answers its health check",
  );
  const hold = (ports: Record<string, number>) =>
    host.store.writeHolds({
      [ID]: Object.fromEntries(Object.entries(ports).map(([n, port]) => [n, { port, since: 1 }])),
    });
  const holds = () => nginxHolds(ID, host.logLine, fx);

  it("writes the file as it is now with the held servers marked backup, checks, reloads", async () => {
    await apply(SITE);
    hold({ b: 20002 });
    host.trace.length = 0;
    await holds();
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    expect(host.log.at(-1)).toBe(
      `${file}: holds changed; held out until healthy: port 20002, nginx reloaded`,
    );
    // Released: the deploy's file again.
    host.store.writeHolds({});
    await holds();
    expect(fs.readFileSync(file, "utf8")).toBe(SITE);
  });

  it("keeps the holds in a deploy's file of the same service, written meanwhile", async () => {
    await apply(SITE);
    hold({ b: 20002 });
    await holds();
    const redeployed = SITE.replace("20001", "20005");
    await apply(redeployed);
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002.replace("20001", "20005"));
    expect(host.log.at(-1)).toBe(
      `${file}: installed; held out until healthy: port 20002, nginx reloaded`,
    );
  });

  it("neither checks nor reloads when the holds change nothing in the file", async () => {
    await apply(SITE);
    hold({ gone: 20009 }); // a port the file no longer has
    host.trace.length = 0;
    await holds();
    expect(execs()).toEqual([]);
    expect(fs.readFileSync(file, "utf8")).toBe(SITE);
  });

  it("never holds every server out", async () => {
    await apply(SITE);
    host.store.writeHolds({
      [ID]: { a: { port: 20001, since: 5 }, b: { port: 20002, since: 9 } },
    });
    await holds();
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002);
  });

  it("fails, changing nothing, when the service has no nginx file", async () => {
    hold({ b: 20002 });
    await expect(holds()).rejects.toThrow(
      `nginx: no file ${file} to hold replicas of ${ID} out of`,
    );
    expect(execs()).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("goes without gathering, even while a deploy's container up runs", async () => {
    await apply(SITE);
    hold({ b: 20002 });
    activity = () => ({ ...QUIET, containerUps: 1 });
    const started = host.clock.now;
    await holds();
    expect(host.clock.now - started).toBeLessThan(SETTLE_MS);
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002);
  });

  it("goes in a batch of its own while a deploy's batch gathers, and never waits for it", async () => {
    fx.clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    newWorkersAtEachReload();
    await apply(SITE);
    hold({ b: 20002 });
    // Another service's deploy: its leader gathers while a container up runs.
    let deploying = true;
    activity = () => ({ ...QUIET, containerUps: deploying ? 1 : 0 });
    const other = confFile("shop_other_production");
    const deploy = apply(CONFIG, "shop_other_production");
    await new Promise((r) => setTimeout(r, 150));
    host.trace.length = 0;
    await holds();
    // Made and answered while the deploy still gathers: its file is not there yet.
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002);
    expect(fs.existsSync(other)).toBe(false);
    expect(execs()).toEqual(["exec nginx -t", "exec nginx -s reload"]);
    deploying = false;
    await deploy;
    expect(fs.readFileSync(other, "utf8")).toBe(CONFIG);
    expect(batchLeftovers()).toEqual([]);
  });

  it("gives up waiting after waitMs when the nginx lock is taken; the next leader makes it", async () => {
    await apply(SITE);
    hold({ b: 20002 });
    let release = () => undefined as void;
    const busy = fx.locks.hold(
      LOCKS.nginx,
      () => new Promise<void>((r) => (release = r)), // a deploy's batch draining
    );
    const started = host.clock.now;
    expect(await nginxHolds(ID, host.logLine, fx, 3_000)).toBe("pending");
    expect(host.clock.now - started).toBeGreaterThanOrEqual(3_000);
    expect(host.clock.now - started).toBeLessThan(3_200);
    expect(fs.readFileSync(file, "utf8")).toBe(SITE);
    release();
    await busy;
    // Its requester is gone, yet the next batch (here another service's) makes it.
    await apply(CONFIG, "shop_other_production");
    expect(fs.readFileSync(file, "utf8")).toBe(HELD_20002);
    expect(batchLeftovers()).toEqual([]);
  });

  it(`waits ${HOLD_DRAIN_MS / 1000} s at most for old workers, not 60`, async () => {
    await apply(SITE);
    hold({ b: 20002 });
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 1 }, // an old worker with a long request
    ];
    const started = host.clock.now;
    await holds();
    expect(host.clock.now - started).toBe(HOLD_DRAIN_MS);
    expect(host.log.at(-2)).toBe(
      `nginx: old workers still draining after ${HOLD_DRAIN_MS / 1000}s, going on`,
    );
  });
});
