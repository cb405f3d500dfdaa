// End-to-end scenarios of conductor on the test fleet (three hosts, h3 with
// systemd; a registry with credentials; a front LB over the hosts' port 80).
// Each scenario runs under fresh-connection load through the front LB and
// asserts zero failed requests, then the exact state on every host: the
// service's containers, its nginx file and its release record.
//
// One fleet and one stack for the whole file; the scenarios run in order and
// each starts from the state the previous one left (the `web` and `solo`
// variables say what is deployed). `web` runs on every host and answers the
// front LB on port 80; `solo`, on h1 only (port 81), is the 1-host service the
// revision-change timing compares with, and what stays when `web` is removed.
import * as fs from "node:fs";
import { get } from "../e2e/docker";
import type { LoadReport } from "../e2e/load";
import { type Fleet, startFleet } from "./fleet";
import {
  allContainers,
  boundedLoad,
  buildHello,
  containersOf,
  FleetStack,
  fleetState,
  getInHost,
  type HostState,
  imageOf,
  loadAs,
  PRELOAD,
  publish,
  type ServiceOptions,
  type StackOptions,
} from "./stacks";

const R = {
  a: "5ca0a01",
  b: "5ca0b02",
  c: "5ca0c03",
  d: "5ca0d04", // healthy in the registry, an --unhealthy build of the same tag on h3
  e: "5ca0e05",
  f: "5ca0f06",
};
const ALL = ["h1", "h2", "h3"];
const STACK = "fleetsc";
const APP = "sc";
const SOLO_PORT = 81;

let fleet: Fleet | undefined;
let main: FleetStack | undefined;
const f = () => {
  if (!fleet) throw new Error("the fleet did not start");
  return fleet;
};
const m = () => {
  if (!main) throw new Error("the stack was not created");
  return main;
};

// What is deployed now; each scenario changes these as it deploys.
let web: ServiceOptions = { revision: R.a, replicas: 2 };
let solo: ServiceOptions = { revision: R.a, replicas: 2, hosts: ["h1"], listen: SOLO_PORT };
let stackHosts = [...ALL];
const current = (): StackOptions => ({ hosts: stackHosts, services: { web, solo } });
const webHosts = () => web.hosts ?? stackHosts;

const started = Date.now();
const summary: string[] = [];
const note = (line: string) => {
  summary.push(line);
  console.log(line);
};

// ---------------------------------------------------------------------------
// Expectations

const WEB = () => m().id("web");
const SOLO = () => m().id("solo");

/** Every answer comes from `revision`: through the front LB, and from each host's own nginx. */
async function expectServing(revision: string, hosts = webHosts()): Promise<void> {
  for (let i = 0; i < 12; i++)
    expect(await get(f().frontUrl)).toEqual({ status: 200, body: revision });
  for (const host of hosts)
    for (let i = 0; i < 6; i++)
      expect({ host, answer: await get(`http://127.0.0.1:${f().host(host).httpPort}/`) }).toEqual({
        host,
        answer: { status: 200, body: revision },
      });
}

async function expectSoloServing(revision: string): Promise<void> {
  for (let i = 0; i < 4; i++)
    expect(await getInHost(f(), "h1", `http://127.0.0.1:${SOLO_PORT}/`)).toEqual({
      status: 200,
      body: revision,
    });
}

/**
 * Exactly `replicas` running containers of `revision` on each of `hosts`,
 * nothing else of the service there (no leftovers, stopped ones included);
 * the release lists just them, the nginx file points at just their ports. On
 * `absent` hosts: no container, no nginx file, no release.
 */
async function expectDeployed(
  id: string,
  want: { revision: string; replicas: number; hosts: string[]; absent?: string[] },
): Promise<Record<string, HostState>> {
  const states = await fleetState(f(), id, [...want.hosts, ...(want.absent ?? [])]);
  const image = `${imageOf(f())}:${want.revision}`;
  for (const host of want.hosts) {
    const st = states[host];
    expect({ host, containers: st.containers.map((c) => `${c.image} ${c.state}`) }).toEqual({
      host,
      containers: Array(want.replicas).fill(`${image} running`),
    });
    const names = st.containers.map((c) => c.name).sort();
    expect({
      host,
      release: st.release && { ...st.release, containers: [...st.release.containers].sort() },
    }).toMatchObject({
      host,
      release: { serviceId: id, revision: want.revision, containers: names },
    });
    const upstreams = [...(st.nginx ?? "").matchAll(/server 127\.0\.0\.1:(\d+)/g)].map((x) =>
      Number(x[1]),
    );
    expect({ host, upstreams: upstreams.sort() }).toEqual({
      host,
      upstreams: st.containers.map((c) => c.port).sort(),
    });
  }
  for (const host of want.absent ?? [])
    expect({ host, ...states[host] }).toEqual({ host, containers: [], nginx: null, release: null });
  return states;
}

const expectWeb = (absent: string[] = ALL.filter((h) => !webHosts().includes(h))) =>
  expectDeployed(WEB(), { ...web, hosts: webHosts(), absent });

/** Runs `body` under load through the front LB; zero failed requests, printed. */
async function underLoad(name: string, body: () => Promise<void>): Promise<LoadReport> {
  const load = boundedLoad(f().frontUrl, { concurrency: 3, maxMs: 5 * 60_000 });
  let report: Awaited<ReturnType<typeof load.stop>>;
  try {
    await body();
  } finally {
    report = await load.stop();
    note(
      `load ${name}: ${report.requests} requests in ${(report.ms / 1000).toFixed(1)} s, ` +
        `${report.failures} failed ${JSON.stringify(report.failureReasons)}, ` +
        `answers ${JSON.stringify(report.answers)}${report.cutShort ? " (CUT SHORT by its bound)" : ""}`,
    );
  }
  expect(report.cutShort).toBe(false);
  expect(report.failureReasons).toEqual({});
  expect(report.failures).toBe(0);
  expect(report.requests).toBeGreaterThan(0);
  return report;
}

/** A failed deploy's Diagnostics: per resource, its error's lines. */
function diagnostics(output: string): { resource: string; lines: string[] }[] {
  const section = output.split(/^Diagnostics:$/m)[1]?.split(/^(?:Outputs|Resources):$/m)[0] ?? "";
  const blocks: { resource: string; lines: string[] }[] = [];
  for (const line of section.split("\n")) {
    const head = /^ {2}(\S+ \(.*\)):$/.exec(line);
    if (head) blocks.push({ resource: head[1], lines: [] });
    else if (blocks.length && line.trim()) blocks[blocks.length - 1].lines.push(line.trim());
  }
  return blocks
    .filter((b) => !b.resource.startsWith("pulumi:pulumi:Stack"))
    .map((b) => ({
      ...b,
      lines: b.lines.map((l, k) => (k === 0 ? l.replace(/^error: /, "") : l)),
    }));
}

/** What a failed deploy says, for the report: each resource's error, bounded. */
const errorLines = (output: string) =>
  diagnostics(output)
    .map((d) => `  ${d.resource}:\n    ${d.lines.slice(0, 6).join("\n    ")}`)
    .join("\n");

/** The first line of each error: what `pulumi up` shows on its progress line. */
const headlines = (output: string) =>
  diagnostics(output).map((d) => `${d.resource}: ${d.lines[0] ?? ""}`);

/** Outputs of the failed deploys, by scenario, for the check of their headlines. */
const failedOutputs: Record<string, string> = {};

/** Whether a deploy updated the conductor command on some host (it restarts the supervisor there too). */
const agentUpdates = (output: string) =>
  [...output.matchAll(/fleet:index:Agent (\S+) updated/g)].map((x) => x[1]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------

beforeAll(async () => {
  const building = (async () => {
    // One at a time: each build compiles the example server (2 cores).
    for (const revision of Object.values(R)) await buildHello(revision);
    await buildHello(R.d, { variant: "--unhealthy", repository: "conductor-fleet-unhealthy" });
  })();
  const [fl] = await Promise.all([startFleet(), building]);
  fleet = fl;
  console.log(
    `fleet ${fl.runId}: image ${fl.timings.imageMs} ms, start ${fl.timings.startMs} ms` +
      (PRELOAD
        ? " (FLEET_PRELOAD_IMAGES: images loaded into the hosts, conductor pulls none)\n"
        : "\n") +
      fl.hosts.map((h) => `  ${h.name}: ssh ${h.sshPort}, http ${h.httpPort}`).join("\n") +
      `\n  front ${fl.frontUrl}, registry ${fl.registry.address} (${fl.registry.localAddress})`,
  );
  for (const revision of [R.a, R.b, R.c, R.e]) await publish(fl, revision);
  main = await FleetStack.create(fl, STACK, APP);
});

afterAll(async () => {
  if (main) fs.rmSync(main.stack.dir, { recursive: true, force: true }); // the fleet goes entirely
  await fleet?.stop();
  note(`scenarios: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  console.log(`summary:\n  ${summary.join("\n  ")}`);
});

describe("conductor on the test fleet", () => {
  it("first deploy: web on 3 hosts x 2 replicas, solo on h1", async () => {
    const ms = await m().deployOk(current());
    note(`first deploy (web on 3 hosts, solo on h1): ${ms} ms`);
    await expectServing(R.a);
    await expectWeb();
    await expectDeployed(SOLO(), { ...solo, hosts: ["h1"], absent: ["h2", "h3"] });
    await expectSoloServing(R.a);
  });

  it("h3 (systemd) runs the supervisor as a unit, and systemd restarts it with a new MainPID after kill -9", async () => {
    await underLoad("systemd supervisor", async () => {
      const unit = "conductor-supervise.service";
      const active = async () =>
        (await f().exec("h3", ["systemctl", "is-active", unit])).stdout.trim();
      const mainPid = async () =>
        Number(
          (
            await f().exec("h3", ["systemctl", "show", "-p", "MainPID", "--value", unit])
          ).stdout.trim(),
        );
      expect(await active()).toBe("active");
      const before = await mainPid();
      expect(before).toBeGreaterThan(0);
      // It supervises: its log says so, under its own pid.
      const supervising = async (pid: number) =>
        (
          await f().exec("h3", [
            "sh",
            "-c",
            `journalctl --no-pager -u ${unit} | grep -q 'conductor supervise: supervising (pid ${pid})'`,
          ])
        ).code === 0;
      expect(await supervising(before)).toBe(true);
      const killedAt = Date.now();
      const since = `@${Math.floor(killedAt / 1000) - 1}`;
      expect((await f().exec("h3", ["kill", "-9", String(before)])).code).toBe(0);
      // Active again with a new MainPID that supervises and stays (a process that
      // starts and exits at once shows as active with a new MainPID too).
      let firstActiveMs = -1;
      let supervisingMs = -1;
      let after = 0;
      for (const deadline = killedAt + 120_000; Date.now() < deadline; await sleep(250)) {
        const [state, pid] = [await active(), await mainPid()];
        if (state === "active" && pid > 0 && pid !== before) {
          if (firstActiveMs < 0) firstActiveMs = Date.now() - killedAt;
          if (await supervising(pid)) {
            after = pid;
            supervisingMs = Date.now() - killedAt;
            break;
          }
        }
      }
      let stable = false;
      if (after) {
        await sleep(6000); // longer than RestartSec: a flapping unit would have a new MainPID by now
        stable = (await active()) === "active" && (await mainPid()) === after;
      }
      const journal = await f().exec("h3", [
        "journalctl",
        "--no-pager",
        "-o",
        "short-precise",
        "-u",
        unit,
        "--since",
        since,
      ]);
      const starts = (journal.stdout.match(/Started conductor-supervise/g) ?? []).length;
      note(
        `h3 supervisor: killed MainPID ${before}; active with a new MainPID after ${firstActiveMs} ms, ` +
          `supervising as ${after || "-"} after ${supervisingMs < 0 ? "more than 120000" : supervisingMs} ms ` +
          `(${starts} starts by systemd), stable ${stable}\n` +
          `  journal:\n    ${journal.output.trim().split("\n").slice(-14).join("\n    ")}`,
      );
      expect({ supervising: after > 0, stable }).toEqual({ supervising: true, stable: true });
      // RestartSec=5, then Node's start: shortly.
      expect(supervisingMs).toBeLessThanOrEqual(15_000);
    });
  });

  it("switches A -> B -> C on 3 hosts x 2 replicas: after each up every answer is the new revision, through the front LB and from each host", async () => {
    const report = await underLoad("revisions A -> B -> C (+ solo A -> B)", async () => {
      web = { ...web, revision: R.b };
      const toB = await m().deployOk(current());
      const toBAgents = agentUpdates(m().lastOutput);
      await expectServing(R.b);
      await expectWeb();

      web = { ...web, revision: R.c };
      const toC = await m().deployOk(current());
      const toCAgents = agentUpdates(m().lastOutput);
      await expectServing(R.c);
      await expectWeb();

      // The same revision change of a service on one host (same replicas, same stack).
      solo = { ...solo, revision: R.b };
      const soloMs = await m().deployOk(current());
      const soloAgents = agentUpdates(m().lastOutput);
      await expectSoloServing(R.b);
      await expectDeployed(SOLO(), { ...solo, hosts: ["h1"], absent: ["h2", "h3"] });
      await expectServing(R.c);
      // The same config again: what every up costs before it changes anything.
      const noop = await m().deployOk(current());
      note(
        `up with no change: ${noop} ms; revision change, 2 replicas: 3 hosts ${toB} ms (A -> B), ${toC} ms (B -> C); 1 host ${soloMs} ms (A -> B)` +
          ` [conductor command updated on: ${[toBAgents, toCAgents, soloAgents].map((a) => a.join(",") || "none").join(" / ")}]`,
      );
    });
    expect(Object.keys(report.answers).sort()).toEqual(
      [R.a, R.b, R.c].filter((r) => report.answers[r]).sort(),
    );
    expect(report.answers[R.c]).toBeGreaterThan(0);
  });

  it("scales 2 -> 3 -> 1 on every host without a failed request", async () => {
    await underLoad("scale 2 -> 3 -> 1", async () => {
      web = { ...web, replicas: 3 };
      const up3 = await m().deployOk(current());
      await expectWeb();
      await expectServing(R.c);
      web = { ...web, replicas: 1 };
      const down1 = await m().deployOk(current());
      await expectWeb();
      await expectServing(R.c);
      note(`scale: 2 -> 3 ${up3} ms, 3 -> 1 ${down1} ms`);
    });
  });

  it("a revision healthy on h1 and h2 but not on h3 fails naming h3, and no host moves: nginx files, releases, old containers and answers unchanged", async () => {
    // The healthy D where the hosts get images; an --unhealthy build of the
    // same tag already on h3 (a present image is not pulled).
    await publish(f(), R.d);
    await loadAs(f(), `conductor-fleet-unhealthy:${R.d}`, R.d, ["h3"]);

    await underLoad("unhealthy on h3", async () => {
      const before = await fleetState(f(), WEB());
      const { result, ms } = await m().deploy({
        ...current(),
        services: { web: { ...web, revision: R.d }, solo },
      });
      failedOutputs.unhealthy = result.output;
      note(`unhealthy on h3: up exit ${result.code} after ${ms} ms:\n${errorLines(result.output)}`);
      expect(result.code).not.toBe(0);
      // One diagnostic of h3's container: `host h3: ...` then `<name> did not become healthy`.
      expect(result.output).toMatch(
        /error: host h3: (?:[^\n]*\n){0,3}?\s*\S+ did not become healthy: GET \/health on port \d+: HTTP 503/,
      );
      expect(result.output).not.toMatch(/host h[12]: \S+ did not become healthy/);
      const after = await fleetState(f(), WEB());
      for (const host of ALL) {
        expect({ host, nginx: after[host].nginx }).toEqual({ host, nginx: before[host].nginx });
        expect({ host, release: after[host].release }).toEqual({
          host,
          release: before[host].release,
        });
        // The old containers run on; only D's may be new (h1, h2: kept for the next deploy).
        const old = new Set(before[host].containers.map((c) => c.name));
        expect({ host, old: after[host].containers.filter((c) => old.has(c.name)) }).toEqual({
          host,
          old: before[host].containers,
        });
        const extra = after[host].containers.filter((c) => !old.has(c.name));
        note(
          `  after the failed deploy, ${host} has ${extra.length} new container(s): ${extra.map((c) => `${c.image} ${c.state}`).join(", ") || "-"}`,
        );
        expect(extra.every((c) => c.image.endsWith(`:${R.d}`))).toBe(true);
      }
      // The unhealthy one is removed.
      expect(after.h3.containers.filter((c) => c.image.endsWith(`:${R.d}`))).toEqual([]);
      await expectServing(R.c);
    });
  });

  it("a host unreachable over SSH fails the deploy naming it, the others keep serving the old revision, and once it is back the next up converges", async () => {
    await underLoad("h2 unreachable", async () => {
      const before = await fleetState(f(), WEB());
      await f().stopSshd("h2");
      try {
        const { result, ms } = await m().deploy({
          ...current(),
          services: { web: { ...web, revision: R.e, replicas: 2 }, solo },
        });
        failedOutputs.unreachable = result.output;
        note(
          `h2 unreachable: up exit ${result.code} after ${ms} ms:\n${errorLines(result.output)}`,
        );
        expect(result.code).not.toBe(0);
        expect(result.output).toContain("host h2: cannot connect over SSH");
        const after = await fleetState(f(), WEB());
        for (const host of ALL) {
          expect({ host, nginx: after[host].nginx }).toEqual({ host, nginx: before[host].nginx });
          expect({ host, release: after[host].release }).toEqual({
            host,
            release: before[host].release,
          });
        }
        await expectServing(R.c);
      } finally {
        await f().startSshd("h2");
      }
      web = { ...web, revision: R.e, replicas: 2 };
      const ms = await m().deployOk(current());
      note(`h2 back: the next up converged in ${ms} ms`);
      await expectServing(R.e);
      await expectWeb(); // exactly the release's containers: D's and C's are gone too
      await m().stack.pulumiOk(["preview", "--expect-no-changes"]);
    });
  });

  it("a wrong registry password fails the deploy before any container starts on any host, naming host and registry, unauthorized", async () => {
    await publish(f(), R.f, { preload: false }); // on no host: every host pulls it
    await underLoad("wrong registry password", async () => {
      const before = Object.fromEntries(
        await Promise.all(ALL.map(async (h) => [h, await allContainers(f(), h)])),
      );
      const nginxBefore = await fleetState(f(), WEB());
      await m().setRegistryPassword(`wrong-${f().registry.password}`);
      try {
        const { result, ms } = await m().deploy({
          ...current(),
          services: { web: { ...web, revision: R.f }, solo },
        });
        failedOutputs.password = result.output;
        note(
          `wrong registry password: up exit ${result.code} after ${ms} ms:\n${errorLines(result.output)}`,
        );
        expect(result.code).not.toBe(0);
        // Every host of web fails its pull, each saying so; no container was started.
        const errors = diagnostics(result.output);
        expect(errors.map((d) => d.resource).sort()).toEqual(
          ALL.map((h) => `fleet:index:Image (web-${h}-image)`),
        );
        for (const h of ALL) {
          const text = errors.find((d) => d.resource.includes(`web-${h}-image`))!.lines.join("\n");
          expect({ h, text }).toEqual({
            h,
            text: expect.stringMatching(
              new RegExp(
                `^host ${h}: [\\s\\S]*cannot pull ${imageOf(f())}:${R.f} from registry registry:5000: unauthorized`,
              ),
            ),
          });
        }
        for (const host of ALL) {
          expect({ host, containers: await allContainers(f(), host) }).toEqual({
            host,
            containers: before[host],
          });
          expect({ host, nginx: (await fleetState(f(), WEB(), [host]))[host].nginx }).toEqual({
            host,
            nginx: nginxBefore[host].nginx,
          });
        }
        await expectServing(R.e);
      } finally {
        await m().setRegistryPassword(f().registry.password);
      }
      // The right password again: the same deploy pulls and succeeds.
      web = { ...web, revision: R.f };
      if (PRELOAD) await loadAs(f(), `conductor-hello:${R.f}`, R.f);
      await m().deployOk(current());
      await expectServing(R.f);
      await expectWeb();
    });
  });

  it("a failed deploy's errors lead with what failed (README's format), not with a progress line", () => {
    const lines = Object.fromEntries(
      Object.entries(failedOutputs).map(([k, out]) => [k, headlines(out)]),
    );
    note(`error headlines:\n  ${Object.values(lines).flat().join("\n  ")}`);
    expect(Object.keys(lines).sort()).toEqual(["password", "unhealthy", "unreachable"]);
    const want = {
      unhealthy: [/^fleet:index:Container \(web-h3-\d\): host h3: \S+ did not become healthy: /],
      unreachable: [/^fleet:index:\w+ \(web-h2-\S+\): host h2: cannot connect over SSH to /],
      password: ALL.map(
        (h) =>
          new RegExp(
            `^fleet:index:Image \\(web-${h}-image\\): host ${h}: cannot pull \\S+ from registry registry:5000: unauthorized`,
          ),
      ),
    };
    // Every headline that does not say what failed, all at once for the report.
    const wrong = Object.entries(want).flatMap(([k, patterns]) =>
      patterns
        .filter((pattern) => !lines[k].some((l) => pattern.test(l)))
        .map((pattern) => ({ scenario: k, want: String(pattern), got: lines[k] })),
    );
    expect(wrong).toEqual([]);
  });

  for (const [host, supervisor] of [
    ["h1", "cron watchdog"],
    ["h3", "systemd unit"],
  ] as const) {
    it(`a rebooted host (${host}, ${supervisor}) serves every container of its release again within 60 s without an up; nothing lost elsewhere`, async () => {
      const others = ALL.filter((h) => h !== host);
      const ids = host === "h1" ? [WEB(), SOLO()] : [WEB()];
      let servingMs = -1;
      let rebootMs = 0;
      await underLoad(`reboot ${host}`, async () => {
        const othersBefore = await Promise.all(others.map((h) => containersOf(f(), h, WEB())));
        const t0 = Date.now();
        await f().reboot(host);
        rebootMs = Date.now() - t0;
        // The containers of its current releases (the records survive the reboot).
        const states = await Promise.all(ids.map((id) => fleetState(f(), id, [host])));
        const wanted = states.flatMap((s) => {
          const release = new Set(s[host].release?.containers ?? []);
          return s[host].containers.filter((c) => release.has(c.name));
        });
        expect(wanted.length).toBe(host === "h1" ? web.replicas + solo.replicas : web.replicas);
        let last = "";
        for (const deadline = t0 + 180_000; Date.now() < deadline; await sleep(500)) {
          const now = (await Promise.all(ids.map((id) => containersOf(f(), host, id)))).flat();
          const byName = new Map(now.map((c) => [c.name, c]));
          const down = wanted.filter((c) => byName.get(c.name)?.state !== "running");
          let unhealthy: string[] = [];
          if (down.length === 0) {
            const answers = await Promise.all(
              wanted.map((c) => getInHost(f(), host, `http://127.0.0.1:${c.port}/health`)),
            );
            unhealthy = wanted.filter((_, i) => answers[i].status !== 200).map((c) => c.name);
          }
          const viaNginx = await get(`http://127.0.0.1:${f().host(host).httpPort}/`);
          last = `not running: ${down.map((c) => `${c.name} ${byName.get(c.name)?.state ?? "missing"}`).join(", ") || "-"}; unhealthy: ${unhealthy.join(", ") || "-"}; its nginx: ${viaNginx.status}`;
          if (down.length === 0 && unhealthy.length === 0 && viaNginx.status === 200) {
            servingMs = Date.now() - t0;
            break;
          }
        }
        const log = await f().exec(host, [
          "sh",
          "-c",
          host === "h3"
            ? "journalctl --no-pager -u conductor-supervise.service -n 15"
            : "tail -n 15 /var/log/conductor-supervise.log",
        ]);
        note(
          `reboot ${host} (${supervisor}): daemons up after ${rebootMs} ms, every container serving after ` +
            `${servingMs < 0 ? `more than 180000 ms (${last})` : `${servingMs} ms`}\n` +
            `  supervisor log:\n    ${log.output.trim().split("\n").join("\n    ")}`,
        );
        // Serving through the host's own nginx, every container of the release.
        if (servingMs >= 0) {
          for (let i = 0; i < 6; i++)
            expect(await get(`http://127.0.0.1:${f().host(host).httpPort}/`)).toEqual({
              status: 200,
              body: web.revision,
            });
          if (host === "h1") await expectSoloServing(solo.revision);
        }
        // Nothing changed on the other hosts.
        const othersAfter = await Promise.all(others.map((h) => containersOf(f(), h, WEB())));
        expect(othersAfter).toEqual(othersBefore);
      });
      expect({ host, servingMs: servingMs >= 0 ? servingMs : "more than 180 s" }).toEqual({
        host,
        servingMs: expect.any(Number),
      });
      expect(servingMs).toBeLessThanOrEqual(60_000);
    });
  }

  it("adds a host to a service ([h1, h2] -> [h1, h2, h3]) and removes a host from the config entirely: its containers and nginx file go", async () => {
    await underLoad("hosts added and removed", async () => {
      // Off h3 first (h3 stays in conductor:hosts); the front LB leaves it before.
      await f().setFrontHosts(["h1", "h2"]);
      web = { ...web, hosts: ["h1", "h2"] };
      const off = await m().deployOk(current());
      await expectWeb(["h3"]);
      await expectServing(web.revision);

      web = { ...web, hosts: ["h1", "h2", "h3"] };
      const added = await m().deployOk(current());
      await expectWeb();
      await expectServing(web.revision);
      await f().setFrontHosts(ALL);
      await expectServing(web.revision);

      // h3 out of the config entirely.
      await f().setFrontHosts(["h1", "h2"]);
      stackHosts = ["h1", "h2"];
      web = { ...web, hosts: undefined };
      const removed = await m().deployOk(current());
      await expectWeb(["h3"]);
      await expectServing(web.revision);
      await m().stack.pulumiOk(["preview", "--expect-no-changes"]);
      note(`hosts: web off h3 ${off} ms, onto h3 ${added} ms, h3 out of the config ${removed} ms`);
    });
  });

  it("removes from the config a host that cannot be reached: the others keep serving (what the deploy says is for the report)", async () => {
    await underLoad("unreachable host removed", async () => {
      stackHosts = [...ALL];
      await m().deployOk(current());
      await expectWeb();
      await f().stopSshd("h3");
      try {
        stackHosts = ["h1", "h2"];
        const { result, ms } = await m().deploy(current());
        const h3 = await fleetState(f(), WEB(), ["h3"]);
        note(
          `unreachable h3 removed from the config: up exit ${result.code} after ${ms} ms:\n${errorLines(result.output)}\n` +
            `  h3 then holds: ${h3.h3.containers.map((c) => `${c.name} ${c.state}`).join(", ") || "no container"}; ` +
            `nginx file ${h3.h3.nginx === null ? "gone" : "still there"}; release ${h3.h3.release ? "still there" : "gone"}`,
        );
        if (result.code !== 0) expect(result.output).toMatch(/host h3: /);
        await expectServing(web.revision, ["h1", "h2"]);
        await expectWeb([]);
      } finally {
        await f().startSshd("h3");
      }
      // Reachable again: the same config converges.
      const again = await m().deploy(current());
      const h3 = await fleetState(f(), WEB(), ["h3"]);
      note(
        `  h3 reachable again, the same config: up exit ${again.result.code} after ${again.ms} ms; h3 holds ` +
          `${h3.h3.containers.map((c) => `${c.name} ${c.state}`).join(", ") || "no container"}, nginx file ${h3.h3.nginx === null ? "gone" : "still there"}`,
      );
      expect(again.result.code).toBe(0);
      await expectServing(web.revision, ["h1", "h2"]);
      // h3 back into the service for what follows.
      stackHosts = [...ALL];
      await m().deployOk(current());
      await f().setFrontHosts(ALL);
      await expectServing(web.revision);
      await expectWeb();
    });
  });

  it("removes the service: its containers, nginx files and releases go on every host; the other service stays", async () => {
    // No load: once removed, nothing answers on port 80 (the front LB's 502s would be right).
    const soloBefore = await fleetState(f(), SOLO(), ["h1"]);
    const ms = await m().deployOk({ hosts: stackHosts, services: { solo } });
    note(`web removed: ${ms} ms`);
    await expectDeployed(WEB(), { revision: web.revision, replicas: 0, hosts: [], absent: ALL });
    expect(await fleetState(f(), SOLO(), ["h1"])).toEqual(soloBefore);
    await expectSoloServing(solo.revision);
    await m().stack.pulumiOk(["preview", "--expect-no-changes"]);
  });
});
