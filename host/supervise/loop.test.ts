// The supervisor's passes against a fake Docker and a temp store: each of
// decide.ts's actions reaches Docker as it should, and what it must leave
// alone it does. The rules themselves are decide.test.ts's.
import * as fs from "node:fs";
import type { ContainerSpec } from "../../protocol/requests";
import { type FakeHost, fakeHost, START } from "../fakes.testutil";
import type { ReleaseRecord } from "../store";
import { Holds, STOPPING_GRACE_MS } from "./holds";
import { supervise, superviseOnce, type Supervisor, type SupervisorMemory } from "./loop";

const WEB = "shop_web_production";
const API = "shop_api_production";
const spec = (serviceId: string, slot: number): ContainerSpec => ({
  serviceId,
  slot,
  image: "registry.example.com/shop/app",
  revision: "279d903",
  env: { SECRET: "hunter2" },
  http: {
    port: 3000,
    healthCheck: { path: "/health", timeoutMs: 1000, intervalMs: 1000, deadlineMs: 5000 },
  },
  stopTimeoutMs: 10_000,
});
const W0 = `${WEB}-0-aaaaaaaaaa`;
const W1 = `${WEB}-1-bbbbbbbbbb`;
const A0 = `${API}-0-cccccccccc`;

let host: FakeHost;
let memory: SupervisorMemory;

function deploy(serviceId: string, names: string[], release: Partial<ReleaseRecord> = {}) {
  names.forEach((name, slot) => {
    host.store.writeContainer({
      name,
      hostPort: 20000 + host.docker.containers.size,
      spec: spec(serviceId, slot),
    });
    host.docker.add(name, "running", { "conductor.service": serviceId });
  });
  host.store.writeRelease({
    serviceId,
    image: "registry.example.com/shop/app",
    revision: "279d903",
    env: { SECRET: "hunter2" },
    containers: names,
    supervise: true,
    ...release,
  });
}

const RELEASE_OF = (serviceId: string): ReleaseRecord => ({
  serviceId,
  image: "registry.example.com/shop/app",
  revision: "279d903",
  env: { SECRET: "hunter2" },
  containers: [],
  supervise: true,
});

beforeEach(() => {
  host = fakeHost();
  memory = new Map();
  deploy(WEB, [W0, W1]);
  deploy(API, [A0]);
  host.trace.length = 0;
});
afterEach(() => host.cleanup());

const pass = () => {
  const supervisor: Supervisor = {
    memory,
    holds: new Holds(host.fx, host.logLine),
    log: host.logLine,
  };
  return superviseOnce(supervisor, host.fx);
};
/** The log without the holds' lines (those are the "holds" tests' below). */
const repairLog = () => host.log.filter((l) => !l.includes("nginx"));
/** What the pass did to Docker, beyond looking. */
const actions = () =>
  host.trace.filter((t) => /^docker (create|start|stop|restart|remove)/.test(t));

describe("a supervisor pass", () => {
  it("only looks at healthy containers, one listing a pass, each service under its lock", async () => {
    await pass();
    expect(host.trace).toEqual([
      "docker list conductor.service",
      `lock service-${API}`,
      "probe 20002/health",
      `unlock service-${API}`,
      `lock service-${WEB}`,
      "probe 20000/health",
      "probe 20001/health",
      `unlock service-${WEB}`,
    ]);
    expect(host.log).toEqual([]);
  });

  it("recreates a missing container with the same name, port and spec", async () => {
    host.docker.containers.delete(W1);
    await pass();
    expect(actions()).toEqual([
      `docker remove ${W1}`,
      `docker create ${W1} registry.example.com/shop/app:279d903`,
      `docker start ${W1}`,
    ]);
    const created = host.docker.containers.get(W1)!.options;
    expect(created.publish).toEqual({ containerPort: 3000, hostPort: 20001 });
    expect(created.labels).toEqual({
      "conductor.service": WEB,
      "conductor.slot": "1",
      "conductor.port": "20001",
    });
    expect(created.env).toEqual({ SECRET: "hunter2" });
    expect(repairLog()).toEqual([
      `${WEB} ${W1}: recreate (container missing; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("starts a stopped container", async () => {
    host.docker.containers.get(W0)!.status = "exited";
    await pass();
    expect(actions()).toEqual([`docker start ${W0}`]);
    expect(host.docker.containers.get(W0)!.status).toBe("running");
    expect(repairLog()).toEqual([
      `${WEB} ${W0}: start (container stopped; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("restarts a container on its third failed health check in a row, with its stop timeout", async () => {
    host.probe = (port) =>
      port === 20000 ? { healthy: false, reason: "HTTP 500" } : { healthy: true };
    await pass();
    await pass();
    expect(actions()).toEqual([]);
    await pass();
    expect(actions()).toEqual([`docker restart ${W0} 10s`]);
    expect(repairLog()).toEqual([
      `${WEB} ${W0}: restart (health check failed 3 times in a row; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("logs an OOM kill as such, and starts the container again", async () => {
    Object.assign(host.docker.containers.get(W0)!, {
      status: "exited",
      exitCode: 137,
      oomKilled: true,
    });
    await pass();
    expect(actions()).toEqual([`docker start ${W0}`]);
    expect(repairLog()).toEqual([
      `${WEB} ${W0}: start (container stopped, OOM-killed at its memory limit; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("calls a SIGKILL under a memory limit likely OOM when Docker does not say (cgroup v1), and a SIGKILL without one a plain stop", async () => {
    const limited = { ...spec(WEB, 0), resources: { memoryBytes: 64 * 2 ** 20 } };
    host.store.writeContainer({ name: W0, hostPort: 20000, spec: limited });
    for (const name of [W0, W1]) {
      Object.assign(host.docker.containers.get(name)!, { status: "exited", exitCode: 137 });
    }
    await pass();
    expect(repairLog()).toEqual([
      `${WEB} ${W0}: start (container stopped, killed by SIGKILL at its memory limit: likely OOM; attempt 1, next no sooner than 5s from now)`,
      `${WEB} ${W1}: start (container stopped; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("runs a worker's command check each pass and restarts it on the third failure, keeping its spec on a recreate", async () => {
    const WORKER = "shop_worker_production";
    const K0 = `${WORKER}-0-dddddddddd`;
    const workerSpec: ContainerSpec = {
      ...spec(WORKER, 0),
      http: undefined,
      healthCheck: {
        command: ["bin/healthcheck"],
        timeoutMs: 1000,
        intervalMs: 1000,
        deadlineMs: 5000,
      },
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      resources: { memoryBytes: 64 * 1024 * 1024 },
      logging: { driver: "local", options: {} },
      user: "app",
      stopSignal: "SIGQUIT",
      labels: { team: "payments" },
    };
    host.store.writeContainer({ name: K0, spec: workerSpec });
    host.docker.add(K0, "running", { "conductor.service": WORKER });
    host.store.writeRelease({ ...RELEASE_OF(WORKER), containers: [K0] });
    host.docker.onExec = (c) => ({ exitCode: c.name === K0 ? 1 : 0, output: "stuck\n" });
    host.trace.length = 0;
    await pass();
    await pass();
    expect(host.trace).toContain(`docker exec ${K0} bin/healthcheck (1000ms)`);
    expect(actions()).toEqual([]);
    await pass();
    expect(actions()).toEqual([`docker restart ${K0} 10s`]);
    expect(repairLog()).toEqual([
      `${WORKER} ${K0}: restart (health check failed 3 times in a row; attempt 1, next no sooner than 5s from now)`,
    ]);
    host.docker.containers.delete(K0);
    host.clock.now += 5000;
    await pass();
    const { labels, ...created } = host.docker.containers.get(K0)!.options;
    expect(created).toEqual({
      name: K0,
      image: "registry.example.com/shop/app:279d903",
      env: { SECRET: "hunter2" },
      stopTimeoutSeconds: 10,
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      memoryBytes: 64 * 1024 * 1024,
      logging: { driver: "local", options: {} },
      user: "app",
      stopSignal: "SIGQUIT",
      publish: undefined,
    });
    expect(labels).toEqual({
      team: "payments",
      "conductor.service": WORKER,
      "conductor.slot": "0",
    });
  });

  it("announces a back-off once, and acts again when it is over", async () => {
    host.docker.onStart = (c) => host.docker.exit(c.name, 1); // a crash loop
    host.docker.containers.get(W0)!.status = "exited";
    await pass(); // start
    await pass(); // backing off
    await pass(); // still: not announced again
    host.clock.now += 5_000;
    await pass(); // start again
    expect(actions()).toEqual([`docker start ${W0}`, `docker start ${W0}`]);
    expect(repairLog()).toEqual([
      `${WEB} ${W0}: start (container stopped; attempt 1, next no sooner than 5s from now)`,
      `${WEB} ${W0}: waiting until ${new Date(START + 5_000).toISOString()} (container stopped, backing off)`,
      `${WEB} ${W0}: start (container stopped; attempt 2, next no sooner than 10s from now)`,
    ]);
  });

  it("leaves a paused service alone", async () => {
    host.store.pause(WEB, new Date(START));
    host.docker.containers.delete(W0);
    host.docker.containers.get(W1)!.status = "exited";
    await pass();
    expect(actions()).toEqual([]);
    expect(host.trace.some((t) => t.includes(WEB))).toBe(false);
  });

  it("leaves a service with supervise: false alone", async () => {
    deploy(WEB, [], { containers: [W0, W1], supervise: false });
    host.docker.containers.get(W0)!.status = "exited";
    host.trace.length = 0;
    await pass();
    expect(host.trace.some((t) => t.includes(WEB))).toBe(false);
  });

  it("never touches a released container the deploy has not recorded (still starting, or stopping)", async () => {
    host.store.removeContainer(W0);
    host.docker.containers.delete(W0);
    host.trace.length = 0;
    await pass();
    expect(host.trace.some((t) => t.includes(W0))).toBe(false);
  });

  it("reports a corrupt container record on every pass, and still supervises the others", async () => {
    fs.writeFileSync(host.store.containerFile(W1), JSON.stringify({ name: W1 }));
    host.docker.containers.get(W1)!.status = "exited";
    host.docker.containers.get(W0)!.status = "exited";
    await pass();
    host.docker.containers.get(W0)!.status = "exited";
    host.clock.now += 5_000;
    await pass();
    const reported = `${W1}: not supervised: ${host.store.containerFile(W1)} is not a container record: spec: Invalid input: expected object, received undefined`;
    expect(host.log.filter((l) => l === reported)).toHaveLength(2);
    expect(actions()).toEqual([`docker start ${W0}`, `docker start ${W0}`]);
    expect(host.docker.containers.get(W1)!.status).toBe("exited");
  });

  it("reports a corrupt release on every pass, and still supervises the other services", async () => {
    fs.writeFileSync(host.store.releaseFile(WEB), "{");
    host.docker.containers.get(A0)!.status = "exited";
    await pass();
    await pass();
    const reported = host.log.filter((l) =>
      l.startsWith(`${WEB}: not supervised: ${host.store.releaseFile(WEB)} is not JSON: `),
    );
    expect(reported).toHaveLength(2);
    expect(actions()).toEqual([`docker start ${A0}`]);
  });

  it("keeps going when one action fails, and says so", async () => {
    host.docker.containers.get(W0)!.status = "exited";
    host.docker.containers.get(W1)!.status = "exited";
    const start = host.docker.startContainer.bind(host.docker);
    host.docker.startContainer = async (name) => {
      if (name === W0) throw new Error("docker POST /containers/x/start: no space left on device");
      return start(name);
    };
    await pass();
    expect(host.log).toContain(
      `${WEB} ${W0}: start failed: docker POST /containers/x/start: no space left on device`,
    );
    expect(host.docker.containers.get(W1)!.status).toBe("running");
  });

  it("writes what it remembers for conductor status, forgetting containers no longer wanted", async () => {
    host.docker.containers.get(W0)!.status = "exited";
    memory.set("gone-0-0000000000", {
      serviceId: WEB,
      memory: { failures: 0, attempts: 0, notBefore: 0, restarts: 0 },
      observed: "running",
    });
    await pass();
    const read = host.store.readSupervisorStatus();
    expect(read.status === "ok" && read.value).toEqual({
      updatedAt: START,
      containers: {
        [A0]: {
          serviceId: API,
          memory: { failures: 0, attempts: 0, notBefore: 0, restarts: 0 },
          observed: "running",
          healthy: true,
        },
        [W0]: {
          serviceId: WEB,
          memory: { failures: 0, attempts: 1, notBefore: START + 5_000, restarts: 1 },
          observed: "stopped",
          lastAction: "start (container stopped; attempt 1, next no sooner than 5s from now)",
        },
        [W1]: {
          serviceId: WEB,
          memory: { failures: 0, attempts: 0, notBefore: 0, restarts: 0 },
          observed: "running",
          healthy: true,
        },
      },
    });
  });
});

describe("conductor supervise", () => {
  it("--once: one pass under the supervisor lock, with its pid on record", async () => {
    expect(await supervise(true, host.logLine, host.fx)).toBe(0);
    expect(host.trace[0]).toBe("lock supervisor");
    expect(host.trace.at(-1)).toBe("unlock supervisor");
    expect(host.store.readSupervisorPid()).toEqual({ status: "ok", value: 4242 });
    expect(host.log).toEqual(["supervising (pid 4242)"]);
    expect(host.processes.signalHandlers.size).toBe(0);
  });

  it("runs passes every 5 s until SIGTERM, then removes its pid file", async () => {
    const passes = () => host.trace.filter((t) => t === "docker list conductor.service").length;
    const sleep = host.fx.clock.sleep;
    host.fx.clock.sleep = async (ms) => {
      if (passes() === 3) host.processes.signalHandlers.get("SIGTERM")!("SIGTERM");
      return sleep(ms);
    };
    expect(await supervise(false, host.logLine, host.fx)).toBe(0);
    expect(passes()).toBe(3);
    // Passes at 0, 5 and 10 s; the signal ends the wait after the third.
    expect(host.clock.now - START).toBe(10_100);
    expect(host.store.readSupervisorPid().status).toBe("missing");
    expect(host.log).toEqual(["supervising (pid 4242)", "stopped"]);
  });

  it("leaves the host to a supervisor that already runs", async () => {
    host.held.add("supervisor");
    expect(await supervise(true, host.logLine, host.fx)).toBe(1);
    expect(await supervise(false, host.logLine, host.fx)).toBe(0);
    expect(host.log).toEqual([
      "another conductor supervise runs on this host; leaving it to that one",
      "another conductor supervise runs on this host; leaving it to that one",
    ]);
    expect(host.store.readSupervisorPid().status).toBe("missing");
  });
});

/**
 * Runs the supervisor until `endMs` after START, calling `at(ms)` before
 * each of its 100 ms sleeps (the fake clock moves only when slept on).
 */
async function superviseUntil(endMs: number, at: (ms: number) => void = () => undefined) {
  const sleep = host.fx.clock.sleep;
  host.fx.clock.sleep = async (ms) => {
    const t = host.clock.now - START;
    at(t);
    if (t >= endMs) host.processes.signalHandlers.get("SIGTERM")?.("SIGTERM");
    return sleep(ms);
  };
  expect(await supervise(false, host.logLine, host.fx)).toBe(0);
}

/** `f`, run the first time the returned function is called only. */
const once = (f: () => void) => {
  let done = false;
  return () => void (!done && (done = true) && f());
};

describe("conductor supervise between passes", () => {
  /** When W0 was started, ms after START. */
  const startsOfW0 = () => {
    const starts: number[] = [];
    host.docker.onStart = (c) => void (c.name === W0 && starts.push(host.clock.now - START));
    return starts;
  };
  const kill = (name: string) => {
    host.docker.exit(name, 137);
    host.docker.emit(name, "die", { exitCode: "137" });
  };

  it("starts a killed container on its die event, without waiting for the pass", async () => {
    const starts = startsOfW0();
    const killAt1s = once(() => kill(W0));
    await superviseUntil(3_000, (t) => t >= 1_000 && killAt1s());
    expect(starts).toEqual([1_100]);
    expect(host.log).toContain(
      `${WEB} ${W0}: start (container stopped; attempt 1, next no sooner than 5s from now)`,
    );
    expect(host.docker.eventsOpen).toBe(false); // closed when it stopped
  });

  it("recreates a container removed with docker rm -f on its destroy event, not 5 s later", async () => {
    const starts = startsOfW0();
    const removing = once(() => {
      host.docker.exit(W0, 137);
      host.docker.containers.get(W0)!.status = "removing";
      host.docker.emit(W0, "die", { exitCode: "137" });
    });
    const removed = once(() => {
      host.docker.containers.delete(W0);
      host.docker.emit(W0, "destroy", { "conductor.service": WEB }); // Docker sends its labels
    });
    await superviseUntil(3_000, (t) => {
      if (t >= 1_000) removing();
      if (t >= 1_300) removed();
    });
    expect(starts).toEqual([1_400]);
    expect(repairLog().filter((l) => l.includes(W0))).toEqual([
      `${WEB} ${W0}: recreate (container missing; attempt 1, next no sooner than 5s from now)`,
    ]);
  });

  it("still repairs one container no more often than every 5 s, even when it was healthy meanwhile", async () => {
    const starts = startsOfW0();
    const first = once(() => kill(W0));
    const second = once(() => kill(W0));
    await superviseUntil(12_000, (t) => {
      if (t >= 1_000) first();
      if (t >= 5_500) second(); // after the pass at 5 s found it healthy
    });
    expect(starts).toEqual([1_100, 6_100]);
  });

  it("backs off a container that crashes soon after each start, forever", async () => {
    const starts = startsOfW0();
    host.docker.onStart = (c) => {
      if (c.name !== W0) return;
      starts.push(host.clock.now - START);
      crashAt = host.clock.now - START + 3_000;
    };
    let crashAt = 1_000;
    await superviseUntil(80_000, (t) => {
      if (t < crashAt) return;
      crashAt = Infinity;
      kill(W0);
    });
    // 5, 10, 20, 40 s apart: the passes that saw it running (3 s of each) forgave nothing.
    expect(starts).toEqual([1_100, 6_100, 16_100, 36_100, 76_100]);
  });

  it("leaves a paused service's container alone on its event", async () => {
    host.store.pause(WEB, new Date(START));
    const starts = startsOfW0();
    const killAt1s = once(() => kill(W0));
    await superviseUntil(12_000, (t) => t >= 1_000 && killAt1s());
    expect(starts).toEqual([]);
  });

  it("passes at once when woken (conductor resume)", async () => {
    const passes: number[] = [];
    const list = host.docker.listContainers.bind(host.docker);
    host.docker.listContainers = (label) => {
      passes.push(host.clock.now - START);
      return list(label);
    };
    const wake = once(() => host.processes.signalHandlers.get("SIGUSR2")!("SIGUSR2"));
    await superviseUntil(8_000, (t) => t >= 2_000 && wake());
    expect(passes).toEqual([0, 2_100, 7_100]);
  });

  it("survives the daemon going away: reconnects with a bounded delay, and passes at once when it answers again", async () => {
    const opens: number[] = [];
    const stream = host.docker.streamEvents.bind(host.docker);
    host.docker.streamEvents = (filters, handlers, signal) => {
      opens.push(host.clock.now - START);
      return stream(filters, handlers, signal);
    };
    const away = once(() => {
      host.docker.daemonUp = false;
      host.docker.closeEvents();
    });
    let backAt = 0;
    const back = once(() => {
      backAt = host.clock.now - START;
      host.docker.daemonUp = true;
      // A restarted daemon has stopped every container, and said nothing of it.
      host.docker.containers.get(W0)!.status = "exited";
    });
    const starts = startsOfW0();
    await superviseUntil(30_000, (t) => {
      if (t >= 1_000) away();
      if (t >= 20_000) back();
    });
    // Delays of 0.5 s doubling to 5 s (the fake clock also moves with the
    // passes' sleeps meanwhile); none after it answered.
    const gaps = opens.slice(2).map((t, i) => t - opens[i + 1]);
    expect(gaps.length).toBeGreaterThan(3);
    expect(gaps.length).toBeLessThan(10);
    expect(gaps.every((g, i) => g >= 500 && g <= 5_100 && g >= (gaps[i - 1] ?? 0) - 100)).toBe(
      true,
    );
    expect(opens.at(-1)! - backAt).toBeLessThanOrEqual(5_000);
    expect(host.log.filter((l) => l.startsWith("docker events"))).toEqual([
      "docker events: the daemon closed the events stream; reconnecting (every 5s at most), passes go on meanwhile",
      expect.stringMatching(
        /^docker events: the daemon answers again \(\d+\.\ds after it went away\); checking every container now$/,
      ),
    ]);
    // The pass the reconnect set off started the container its restart had stopped.
    expect(starts).toHaveLength(1);
    expect(starts[0] - opens.at(-1)!).toBeLessThanOrEqual(100);
  });
});

describe("holds: a replica being repaired is out of nginx until it answers its health check", () => {
  const SITE = [
    `upstream conductor_${WEB} {`,
    "    server 127.0.0.1:20000 max_fails=0;",
    "    server 127.0.0.1:20001 max_fails=0;",
    "}",
    "",
  ].join("\n");
  const siteFile = () => host.fx.nginxConfDir.path(`conductor-${WEB}.conf`);
  /** What nginx ran after each reload: the ports held out (backup) in WEB's file. */
  let reloads: { at: number; held: string[] }[];
  /** Ports whose health check fails (booting, or sick), by port. */
  let unhealthy: Set<number>;
  beforeEach(() => {
    host.fx.nginxConfDir.write(`conductor-${WEB}.conf`, SITE);
    reloads = [];
    unhealthy = new Set();
    host.probe = (port) =>
      unhealthy.has(port) ? { healthy: false, reason: "503" } : { healthy: true };
    const exec = host.fx.exec;
    host.fx.exec = async (file, args) => {
      const result = await exec(file, args);
      if (args.join(" ") === "-s reload") {
        const text = fs.readFileSync(siteFile(), "utf8");
        const held = [...text.matchAll(/127\.0\.0\.1:(\d+) max_fails=0 backup;/g)].map((m) => m[1]);
        reloads.push({ at: host.clock.now - START, held });
      }
      return result;
    };
  });

  /** Docker's order for `docker kill`: kill, then the container dies. */
  const dockerKill = (name: string) => {
    host.docker.emit(name, "kill", { signal: "9" });
    host.docker.exit(name, 137);
    host.docker.emit(name, "die", { exitCode: "137" });
  };
  const dockerActions = () =>
    host.trace.filter((t) => /^(docker (start|restart|create)|exec nginx -s reload)/.test(t));

  it("kill: holds it out, reloads, starts it, and puts it back once it answers", async () => {
    let bootEnd = Infinity;
    host.docker.onStart = () => {
      unhealthy.add(20000);
      bootEnd = host.clock.now - START + 1_500; // the app boots in 1.5 s
    };
    const killAt1s = once(() => dockerKill(W0));
    host.trace.length = 0;
    await superviseUntil(6_000, (t) => {
      if (t >= 1_000) killAt1s();
      if (t >= bootEnd) unhealthy.delete(20000);
    });
    expect(dockerActions()).toEqual([
      "exec nginx -s reload", // held out
      `docker start ${W0}`,
      "exec nginx -s reload", // back in
    ]);
    expect(reloads.map((r) => r.held)).toEqual([["20000"], []]);
    // Back within a check (100 ms) of answering.
    expect(reloads[1].at - bootEnd).toBeGreaterThanOrEqual(0);
    expect(reloads[1].at - bootEnd).toBeLessThanOrEqual(200);
    expect(host.log.filter((l) => l.includes(W0))).toEqual([
      `${WEB} ${W0}: held out of nginx until it answers its health check (Docker: kill)`,
      `${WEB} ${W0}: start (container stopped; attempt 1, next no sooner than 5s from now)`,
      expect.stringMatching(
        new RegExp(
          `^${WEB} ${W0}: answers its health check \\d+\\.\\ds after it was held out: back in nginx$`,
        ),
      ),
    ]);
    expect(host.store.readHolds()).toEqual({ status: "ok", value: {} });
  });

  it("a failing health check: holds it out before restarting it (its requests finish first)", async () => {
    unhealthy.add(20000);
    const recover = once(() => {
      unhealthy.delete(20000);
    });
    host.trace.length = 0;
    await superviseUntil(13_000, (t) => {
      if (host.trace.includes(`docker restart ${W0} 10s`) && t >= 11_000) recover();
    });
    expect(dockerActions()).toEqual([
      "exec nginx -s reload",
      `docker restart ${W0} 10s`,
      "exec nginx -s reload",
    ]);
    expect(reloads.map((r) => r.held)).toEqual([["20000"], []]);
    expect(reloads[1].at).toBeGreaterThanOrEqual(11_000);
  });

  it("docker restart (not the supervisor's doing): holds it out on the kill event until it answers", async () => {
    const restart = once(() => {
      host.docker.emit(W1, "kill", { signal: "15" });
      host.docker.emit(W1, "die", { exitCode: "0" });
      host.docker.emit(W1, "start");
      unhealthy.add(20001); // running again, booting
    });
    const booted = once(() => unhealthy.delete(20001));
    host.trace.length = 0;
    await superviseUntil(4_000, (t) => {
      if (t >= 1_000) restart();
      if (t >= 2_500) booted();
    });
    expect(dockerActions()).toEqual(["exec nginx -s reload", "exec nginx -s reload"]);
    expect(reloads.map((r) => r.held)).toEqual([["20001"], []]);
    expect(reloads[1].at).toBeGreaterThanOrEqual(2_500);
  });

  it("a replica that drains on SIGTERM stays held while it still answers, until it has restarted and answers", async () => {
    const signalled = once(() => host.docker.emit(W1, "kill", { signal: "15" }));
    const exited = once(() => {
      host.docker.emit(W1, "die", { exitCode: "0" });
      host.docker.emit(W1, "start");
      unhealthy.add(20001); // booting
    });
    const booted = once(() => unhealthy.delete(20001));
    await superviseUntil(5_000, (t) => {
      if (t >= 1_000) signalled(); // it drains (answers) for 1 s
      if (t >= 2_000) exited();
      if (t >= 3_500) booted();
    });
    expect(reloads.map((r) => r.held)).toEqual([["20001"], []]);
    expect(reloads[1].at).toBeGreaterThanOrEqual(3_500);
  });

  it("puts back a replica sent a signal that stops nothing (SIGHUP, a log reopen) as soon as it answers, not after its stop timeout", async () => {
    const signalled = once(() => host.docker.emit(W1, "kill", { signal: "1" }));
    await superviseUntil(15_000, (t) => t >= 1_000 && signalled());
    expect(reloads.map((r) => r.held)).toEqual([["20001"], []]);
    expect(reloads[1].at).toBeLessThan(1_000 + STOPPING_GRACE_MS);
  });

  it("keeps a replica sent SIGTERM held for its stop timeout while it still answers", async () => {
    const signalled = once(() => host.docker.emit(W1, "kill", { signal: "15" }));
    await superviseUntil(15_000, (t) => t >= 1_000 && signalled());
    expect(reloads.map((r) => r.held)).toEqual([["20001"], []]);
    // The stop timeout (10 s) and STOPPING_GRACE_MS after it was held.
    expect(reloads[1].at).toBeGreaterThanOrEqual(1_000 + 10_000 + STOPPING_GRACE_MS);
  });

  it("repairs anyway when the hold cannot be made, and says why", async () => {
    host.programs.set("nginx -t", { code: 1, stdout: "", stderr: "nginx: [emerg] no memory\n" });
    host.docker.containers.get(W0)!.status = "exited";
    await pass();
    expect(actions()).toEqual([`docker start ${W0}`]);
    expect(host.log).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${WEB} ${W0}: could not hold it out of nginx: nginx -t fails .*no memory; going on$`,
          "s",
        ),
      ),
    );
  });

  it("never holds every replica out: with both killed, the one held longest is kept in", async () => {
    unhealthy.add(20000).add(20001); // neither answers again within the test
    const killW0 = once(() => dockerKill(W0));
    const killW1 = once(() => dockerKill(W1));
    await superviseUntil(3_000, (t) => {
      if (t >= 1_000) killW0();
      if (t >= 1_500) killW1();
    });
    expect(reloads.map((r) => r.held)).toEqual([["20000"], ["20001"]]);
    expect(host.log).toContain(
      `${WEB}: every replica is held out; ${W0} (held longest) kept in nginx's rotation`,
    );
  });

  it("drops the holds of replicas no longer released (a deploy replaced them)", async () => {
    host.store.writeHolds({
      [WEB]: {
        [W0]: { port: 20000, since: START },
        [`${WEB}-0-0000000000`]: { port: 20077, since: START },
      },
      gone_service: { "gone_service-0-1111111111": { port: 20078, since: START } },
    });
    unhealthy.add(20000);
    await pass();
    expect(host.store.readHolds()).toEqual({
      status: "ok",
      value: { [WEB]: { [W0]: { port: 20000, since: START } } },
    });
  });
});
