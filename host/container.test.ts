// `container up` and `container down` against a fake Docker and a temp store:
// the order of what they do, what the container is created with, and what is
// left behind when it fails. Not proven here: Docker's own behaviour (the
// e2e tests run the real one).
import * as fs from "node:fs";
import * as path from "node:path";
import type { ContainerSpec } from "../protocol/requests";
import { containerDown, containerUp } from "./container";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { type Locks, socketLocks } from "./lock";
import { containerName } from "./naming";
import { LABELS, LOCKS } from "./store";

const SPEC: ContainerSpec = {
  serviceId: "shop_web_production",
  slot: 1,
  image: "registry.example.com/shop/web",
  revision: "279d903",
  command: ["bin/web"],
  env: { RAILS_ENV: "production", SECRET: "hunter2" },
  http: {
    port: 3000,
    healthCheck: { path: "/health", timeoutMs: 1000, intervalMs: 1000, deadlineMs: 5000 },
  },
  stopTimeoutMs: 30_000,
};
const IMAGE = "registry.example.com/shop/web:279d903";

let host: FakeHost;
let name: string;
beforeEach(() => {
  host = fakeHost();
  name = containerName(SPEC, host.store.salt());
});
afterEach(() => host.cleanup());

const up = (spec: ContainerSpec = SPEC) => containerUp(spec, host.logLine, host.fx);
const record = () => host.store.readContainer(name);

describe("container up", () => {
  it("pulls a missing image, creates and starts the container, waits for health, then records it", async () => {
    expect(await up()).toEqual({ name, hostPort: 20000 });
    expect(host.trace).toEqual([
      `docker inspect ${name}`,
      `docker image ${IMAGE}`,
      `docker pull ${IMAGE}`,
      "lock ports",
      "docker list conductor.port",
      `docker create ${name} ${IMAGE}`,
      // The start outside the lock: containers starting together start at once.
      "unlock ports",
      `docker start ${name}`,
      // Healthy: it runs, Docker need not be asked.
      "probe 20000/health",
      `store write container ${name}`,
    ]);
    expect(host.log).toEqual([
      `${IMAGE}: not on this host, pulling`,
      `${name}: started on 127.0.0.1:20000`,
    ]);
  });

  it("creates the container with the service's labels, port, env, command and stop timeout", async () => {
    host.docker.images.add(IMAGE);
    await up();
    expect(host.docker.containers.get(name)!.options).toEqual({
      name,
      image: IMAGE,
      command: ["bin/web"],
      env: { RAILS_ENV: "production", SECRET: "hunter2" },
      stopTimeoutSeconds: 30,
      labels: {
        "conductor.service": "shop_web_production",
        "conductor.slot": "1",
        "conductor.port": "20000",
      },
      publish: { containerPort: 3000, hostPort: 20000 },
    });
    expect(record()).toEqual({ status: "ok", value: { name, hostPort: 20000, spec: SPEC } });
    expect(fs.statSync(host.store.containerFile(name)).mode & 0o777).toBe(0o600);
  });

  it("takes a port no conductor container holds and nothing listens on", async () => {
    host.docker.images.add(IMAGE);
    host.docker.add("other-0-0000000000", "exited", { "conductor.port": "20000" });
    host.fx.canListen = async (port) => port !== 20001;
    expect(await up()).toEqual({ name, hostPort: 20002 });
  });

  it("only checks the health of a container an earlier deploy already started", async () => {
    host.docker.add(name, "running", { "conductor.port": "20123" });
    expect(await up()).toEqual({ name, hostPort: 20123 });
    expect(host.trace).toEqual([
      `docker inspect ${name}`,
      "probe 20123/health",
      `store write container ${name}`,
    ]);
    expect(host.log).toEqual([
      `${name}: already running (an earlier deploy started it), checking its health`,
    ]);
  });

  it("replaces a stopped container of the same name, keeping its port", async () => {
    host.docker.images.add(IMAGE);
    host.docker.add(name, "exited", { "conductor.port": "20123" });
    expect(await up()).toEqual({ name, hostPort: 20123 });
    expect(host.trace.slice(0, 7)).toEqual([
      `docker inspect ${name}`,
      `docker remove ${name}`,
      `docker image ${IMAGE}`,
      "lock ports",
      `docker create ${name} ${IMAGE}`,
      "unlock ports",
      `docker start ${name}`,
    ]);
  });

  it("polls an HTTP check every 100 ms until it passes, whatever its interval (1 s here)", async () => {
    host.docker.images.add(IMAGE);
    const answers: boolean[] = [false, false, true];
    host.probe = () =>
      answers.shift() ? { healthy: true } : { healthy: false, reason: "connection refused" };
    const started = host.clock.now;
    await up();
    expect(host.trace.filter((t) => t.startsWith("probe"))).toHaveLength(3);
    expect(host.clock.now - started).toBe(200);
    expect(record().status).toBe("ok");
  });

  it("asks Docker whether it still runs only while the probe fails, at most every 500 ms", async () => {
    host.docker.images.add(IMAGE);
    const started = host.clock.now;
    host.probe = () =>
      host.clock.now - started < 1200
        ? { healthy: false, reason: "connection refused" }
        : { healthy: true };
    await up();
    const afterStart = host.trace.slice(host.trace.indexOf(`docker start ${name}`) + 1);
    expect(afterStart.filter((t) => t.startsWith("probe"))).toHaveLength(13); // 0s, 0.1s ... 1.2s
    // At 0s, 0.5s and 1s; none once it answers.
    expect(afterStart.filter((t) => t === `docker inspect ${name}`)).toHaveLength(3);
    expect(afterStart.at(-2)).toBe("probe 20000/health");
  });

  it("notices within 500 ms a container that exits while it boots, with its exit code", async () => {
    host.docker.images.add(IMAGE);
    const started = host.clock.now;
    host.probe = () => {
      if (host.clock.now - started >= 700) host.docker.exit(name, 3);
      return { healthy: false, reason: "connection refused" };
    };
    await expect(up()).rejects.toThrow(
      `${name} did not become healthy: the container exited with code 3\n`,
    );
    expect(host.clock.now - started).toBe(1000); // the first inspect after its exit
    expect(host.trace.filter((t) => t === `docker inspect ${name}`)).toHaveLength(1 + 3);
  });

  it("says that it exited, not that the deadline passed, when it exits just before the deadline", async () => {
    host.docker.images.add(IMAGE);
    const http = { ...SPEC.http!, healthCheck: { ...SPEC.http!.healthCheck, deadlineMs: 4800 } };
    const spec = { ...SPEC, http };
    const started = host.clock.now;
    host.probe = () => {
      // After the last inspect due before the deadline (4.5 s).
      if (host.clock.now - started >= 4600)
        host.docker.exit(containerName(spec, host.store.salt()), 1);
      return { healthy: false, reason: "HTTP 503" };
    };
    await expect(up(spec)).rejects.toThrow(
      `${containerName(spec, host.store.salt())} did not become healthy: the container exited with code 1\n`,
    );
  });

  it("removes a container still unhealthy at the deadline, with its last log lines in the error, and records nothing", async () => {
    host.docker.images.add(IMAGE);
    host.probe = () => ({ healthy: false, reason: "HTTP 503" });
    host.docker.onStart = (c) => (c.logs = "booting\nmigrations pending\n");
    await expect(up()).rejects.toThrow(
      new Error(
        `${name} did not become healthy: GET /health on port 20000: HTTP 503 (deadline 5000ms)\n` +
          `--- last 30 log lines of ${name} ---\nbooting\nmigrations pending`,
      ),
    );
    expect(host.trace.slice(-3)).toEqual([
      `docker logs ${name} 30`,
      `docker remove ${name}`,
      `store remove container ${name}`,
    ]);
    expect(host.trace.filter((t) => t.startsWith("probe"))).toHaveLength(51); // 0s, 0.1s ... 5s
    expect(host.docker.containers.has(name)).toBe(false);
    expect(record()).toEqual({ status: "missing", file: host.store.containerFile(name) });
  });

  it("gives the exit code of a container that exits while starting", async () => {
    host.docker.images.add(IMAGE);
    host.docker.onStart = (c) => host.docker.exit(c.name, 3);
    await expect(up()).rejects.toThrow(
      new Error(
        `${name} did not become healthy: the container exited with code 3\n` +
          `--- last 30 log lines of ${name} ---\n(no output)`,
      ),
    );
    expect(host.docker.containers.has(name)).toBe(false);
    expect(record().status).toBe("missing");
  });

  it("without http: no port, no probe, healthy if still running after 2 s", async () => {
    const worker: ContainerSpec = { ...SPEC, http: undefined };
    const workerName = containerName(worker, host.store.salt());
    host.docker.images.add(IMAGE);
    const started = host.clock.now;
    expect(await up(worker)).toEqual({ name: workerName, hostPort: undefined });
    expect(host.clock.now - started).toBe(2000);
    expect(host.trace).not.toContain("docker list conductor.port");
    expect(host.trace.some((t) => t.startsWith("probe"))).toBe(false);
    const options = host.docker.containers.get(workerName)!.options;
    expect(options.labels).toEqual({
      "conductor.service": "shop_web_production",
      "conductor.slot": "1",
    });
    expect(options.publish).toBeUndefined();
  });

  it("creates the container with the spec's volumes, limits, log driver, user, stop signal and labels, conductor's labels last", async () => {
    host.docker.images.add(IMAGE);
    const spec: ContainerSpec = {
      ...SPEC,
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      resources: { memoryBytes: 512 * 1024 * 1024, cpus: 1.5 },
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } },
      user: "app",
      stopSignal: "SIGQUIT",
      labels: { team: "payments" },
    };
    const created = containerName(spec, host.store.salt());
    await up(spec);
    expect(host.docker.containers.get(created)!.options).toEqual({
      name: created,
      image: IMAGE,
      command: ["bin/web"],
      env: { RAILS_ENV: "production", SECRET: "hunter2" },
      stopTimeoutSeconds: 30,
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      memoryBytes: 536870912,
      cpus: 1.5,
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } },
      user: "app",
      stopSignal: "SIGQUIT",
      labels: {
        team: "payments",
        "conductor.service": "shop_web_production",
        "conductor.slot": "1",
        "conductor.port": "20000",
      },
      publish: { containerPort: 3000, hostPort: 20000 },
    });
    // The protocol refuses "conductor.*" labels; were one to get through, conductor's would win.
    const sneaky: ContainerSpec = { ...SPEC, labels: { "conductor.slot": "9" } };
    await up(sneaky);
    const sneakyName = containerName(sneaky, host.store.salt());
    expect(host.docker.containers.get(sneakyName)!.options.labels["conductor.slot"]).toBe("1");
  });

  it("says when a container that exited while starting was OOM-killed", async () => {
    host.docker.images.add(IMAGE);
    host.docker.onStart = (c) => {
      host.docker.exit(c.name, 137);
      c.oomKilled = true;
    };
    await expect(up()).rejects.toThrow(
      `${name} did not become healthy: the container exited with code 137 (OOM-killed at its memory limit)\n`,
    );
  });

  it("says when a container with a memory limit was SIGKILLed while starting, though Docker does not report an OOM kill", async () => {
    host.docker.images.add(IMAGE);
    const limited: ContainerSpec = { ...SPEC, resources: { memoryBytes: 64 * 2 ** 20 } };
    host.docker.onStart = (c) => host.docker.exit(c.name, 137);
    await expect(up(limited)).rejects.toThrow(
      "did not become healthy: the container exited with code 137 (killed by SIGKILL at its memory limit: likely out of memory)\n",
    );
  });

  it("still fails and removes an unhealthy container whose logs cannot be read (log driver none)", async () => {
    host.docker.images.add(IMAGE);
    host.probe = () => ({ healthy: false, reason: "HTTP 503" });
    host.docker.containerLogs = async () => {
      throw new Error(
        "docker GET /containers/x/logs: configured logging driver does not support reading",
      );
    };
    await expect(up()).rejects.toThrow(
      `--- last 30 log lines of ${name} ---\n(its logs cannot be read: docker GET /containers/x/logs: configured logging driver does not support reading)`,
    );
    expect(host.docker.containers.has(name)).toBe(false);
  });

  describe("a service without http, with a command health check", () => {
    const WORKER: ContainerSpec = {
      ...SPEC,
      http: undefined,
      healthCheck: {
        command: ["bin/healthcheck", "--queue"],
        timeoutMs: 1000,
        intervalMs: 500,
        deadlineMs: 3000,
      },
    };
    let worker: string;
    beforeEach(() => {
      worker = containerName(WORKER, host.store.salt());
      host.docker.images.add(IMAGE);
    });

    it("runs the command in the container every interval until it exits 0, then records it", async () => {
      const codes = [1, 1, 0];
      host.docker.onExec = () => ({ exitCode: codes.shift()!, output: "" });
      const started = host.clock.now;
      expect(await up(WORKER)).toEqual({ name: worker, hostPort: undefined });
      expect(host.clock.now - started).toBe(1000);
      expect(host.trace.filter((t) => t.startsWith("docker exec"))).toEqual(
        Array(3).fill(`docker exec ${worker} bin/healthcheck --queue (1000ms)`),
      );
      expect(host.trace).not.toContain("docker list conductor.port");
      expect(host.trace.at(-1)).toBe(`store write container ${worker}`);
    });

    it("removes it at the deadline, saying what the command printed last, and records nothing", async () => {
      host.docker.onExec = () => ({
        exitCode: 3,
        output: "redis: connection refused\nqueue unreachable\n",
      });
      host.docker.onStart = (c) => (c.logs = "worker booting\n");
      await expect(up(WORKER)).rejects.toThrow(
        new Error(
          `${worker} did not become healthy: command check: \`bin/healthcheck --queue\` exited with 3: queue unreachable (deadline 3000ms)\n` +
            `--- last 30 log lines of ${worker} ---\nworker booting`,
        ),
      );
      expect(host.trace.filter((t) => t.startsWith("docker exec"))).toHaveLength(7); // 0s, 0.5s ... 3s
      expect(host.docker.containers.has(worker)).toBe(false);
      expect(host.store.readContainer(worker).status).toBe("missing");
    });

    it("counts a command that does not exit within the timeout as a failure", async () => {
      host.docker.onExec = () => ({ output: "" });
      await expect(up(WORKER)).rejects.toThrow(
        "command check: `bin/healthcheck --queue` did not exit within 1000ms (deadline 3000ms)",
      );
    });

    it("is ignored beside http: an http service is checked over HTTP", async () => {
      const both: ContainerSpec = { ...SPEC, healthCheck: WORKER.healthCheck };
      await up(both);
      expect(host.trace.some((t) => t.startsWith("docker exec"))).toBe(false);
      expect(host.trace).toContain("probe 20000/health");
    });
  });

  it("removes a container that Docker fails to start", async () => {
    host.docker.images.add(IMAGE);
    host.docker.onStart = () => {
      throw new Error("docker POST /containers/x/start: port is already allocated");
    };
    await expect(up()).rejects.toThrow("port is already allocated");
    expect(host.trace.slice(-2)).toEqual([`docker start ${name}`, `docker remove ${name}`]);
    expect(record().status).toBe("missing");
  });
});

describe("containers created together", () => {
  // The host's real locks in the temp dir: a group must exclude another
  // process's hold, and creates of one process must not exclude each other.
  let otherProcess: Locks;
  let inFlight: number;
  let mostInFlight: number;
  beforeEach(() => {
    const dir = path.join(host.dir, "locks");
    const real = socketLocks(dir);
    otherProcess = socketLocks(dir);
    host.fx.locks = {
      hold: (lock, fn) => (host.trace.push(`lock ${lock}`), real.hold(lock, fn)),
      tryHold: (lock, fn) => real.tryHold(lock, fn),
    };
    host.docker.images.add(IMAGE);
    inFlight = mostInFlight = 0;
    const create = host.docker.createContainer.bind(host.docker);
    host.docker.createContainer = async (o) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      try {
        await new Promise((r) => setTimeout(r, 10));
        return await create(o);
      } finally {
        inFlight--;
      }
    };
  });

  const replica = (slot: number): ContainerSpec => ({ ...SPEC, slot });
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done(); waited += 5) {
      if (waited > 2000) throw new Error("waited 2 s in vain");
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const count = (line: string) => host.trace.filter((t) => t === line).length;

  it("share one hold of the port lock: one listing, distinct ports, their creates at once", async () => {
    // Another process holds the lock and creates a container on 20000 meanwhile.
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const other = otherProcess.hold(LOCKS.ports, async () => {
      host.docker.add("other-1-0000000000", "created", { [LABELS.port]: "20000" });
      holding();
      await held;
    });
    await new Promise<void>((r) => (holding = r));
    const ups = [1, 2, 3].map((slot) => containerUp(replica(slot), host.logLine, host.fx));
    await new Promise((r) => setTimeout(r, 150));
    expect(host.trace.filter((t) => t.startsWith("docker create"))).toEqual([]);
    release();
    await other;
    const ports = (await Promise.all(ups)).map((u) => u.hostPort);
    expect(ports).toEqual([20001, 20002, 20003]);
    expect(count("lock ports")).toBe(1);
    expect(count("docker list conductor.port")).toBe(1);
    expect(mostInFlight).toBe(3);
  });

  it("a group waits for the one before it of its own process in memory, then takes the lock at once", async () => {
    const hold = host.fx.locks.hold;
    let holders = 0;
    host.fx.locks.hold = async (lock, fn) => {
      // Were it to ask while its own group holds the lock, it would poll: the lock never frees it earlier.
      if (holders > 0) host.trace.push("asked while its own group holds it");
      holders++;
      try {
        return await hold(lock, fn);
      } finally {
        holders--;
      }
    };
    const first = containerUp(replica(1), host.logLine, host.fx);
    await until(() => inFlight > 0); // the first group holds the lock, creating
    const next = [2, 3].map((slot) => containerUp(replica(slot), host.logLine, host.fx));
    const ports = (await Promise.all([first, ...next])).map((u) => u.hostPort);
    expect(ports).toEqual([20000, 20001, 20002]);
    expect(count("lock ports")).toBe(2);
    expect(host.trace).not.toContain("asked while its own group holds it");
  });

  it("a group whose hold gives up fails, and the creates after it form a new one", async () => {
    const real = host.fx.locks;
    const giveUp = new Error("lock ports: another process still holds it after 120 s");
    host.fx.locks = { ...real, hold: () => Promise.reject(giveUp) };
    await expect(containerUp(replica(1), host.logLine, host.fx)).rejects.toBe(giveUp);
    // The same Locks again (groups are kept by it), now holding.
    Object.assign(host.fx.locks, { hold: real.hold });
    expect(await containerUp(replica(2), host.logLine, host.fx)).toMatchObject({ hostPort: 20000 });
  });

  it("a create that fails fails only its own container: the others are created, started and keep their ports", async () => {
    const create = host.docker.createContainer.bind(host.docker);
    host.docker.createContainer = (o) =>
      o.labels[LABELS.slot] === "2"
        ? Promise.reject(new Error("docker POST /containers/create: no space left on device"))
        : create(o);
    const ups = [1, 2, 3].map((slot) => containerUp(replica(slot), host.logLine, host.fx));
    const [one, two, three] = await Promise.allSettled(ups);
    expect(two).toEqual({
      status: "rejected",
      reason: new Error("docker POST /containers/create: no space left on device"),
    });
    const names = [1, 3].map((slot) => containerName(replica(slot), host.store.salt()));
    expect([one, three]).toEqual([
      { status: "fulfilled", value: { name: names[0], hostPort: 20000 } },
      { status: "fulfilled", value: { name: names[1], hostPort: 20002 } },
    ]);
    for (const n of names) expect(host.docker.containers.get(n)!.status).toBe("running");
    expect(count("lock ports")).toBe(1);
  });
});

describe("container down", () => {
  const down = () =>
    containerDown({ serviceId: SPEC.serviceId, name, stopTimeoutMs: 2500 }, host.logLine, host.fx);

  it("removes the record first, under the service's lock, then stops with the request's timeout and removes", async () => {
    host.docker.images.add(IMAGE);
    await up();
    host.trace.length = 0;
    await down();
    // The stop outside the lock: the replicas' deletes do not wait for each other.
    expect(host.trace).toEqual([
      "lock service-shop_web_production",
      `store remove container ${name}`,
      "unlock service-shop_web_production",
      `docker stop ${name} 3s`,
      `docker remove ${name}`,
    ]);
    expect(host.log.at(-1)).toBe(`${name}: stopped and removed`);
    expect(record().status).toBe("missing");
    expect(host.docker.containers.size).toBe(0);
  });

  it("takes no lock for a container the release already stopped and forgot", async () => {
    await down();
    expect(host.trace).toEqual([`docker stop ${name} 3s`, `docker remove ${name}`]);
    expect(host.log).toEqual([`${name}: stopped and removed`]);
  });
});
