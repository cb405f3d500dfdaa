// The test fleet, for real: three hosts with their own dockerd, nginx, cron
// and sshd (h3 booting systemd), a registry with TLS and htpasswd, a front
// load balancer; then a deploy of the example with conductor's current code
// to all three over SSH, served through the front LB, and a host rebooted.
import * as fs from "node:fs";
import { buildExample, get } from "../e2e/docker";
import { run, TestStack } from "../e2e/harness";
import { PREFIX, type Fleet, startFleet } from "./fleet";

const REVISION = "f1ee7a1";
const APP = "fleet";
const STACK = "fleet";
const SERVICE_ID = `${APP}_web_${STACK}`;

let fleet: Fleet | undefined;
let stack: TestStack | undefined;
const started = Date.now();

const f = () => {
  if (!fleet) throw new Error("the fleet did not start");
  return fleet;
};

/** GET through the front LB: status, body, and which host port answered. */
async function front(): Promise<{ status: number; body: string; upstream: string }> {
  const r = await run("curl", ["-sS", "--max-time", "10", "-D", "-", f().frontUrl]);
  const [head, ...body] = r.stdout.split("\r\n\r\n");
  return {
    status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1] ?? 0),
    body: body.join("\r\n\r\n").trim(),
    upstream: /^x-fleet-upstream: (.*)$/im.exec(head)?.[1]?.trim() ?? "",
  };
}

beforeAll(async () => {
  const [fl] = await Promise.all([startFleet(), buildExample(REVISION)]);
  fleet = fl;
  console.log(
    `fleet ${fl.runId}: image ${fl.timings.imageMs} ms, start ${fl.timings.startMs} ms\n` +
      fl.hosts.map((h) => `  ${h.name}: ssh ${h.sshPort}, http ${h.httpPort}`).join("\n") +
      `\n  front ${fl.frontUrl}, registry ${fl.registry.address} (${fl.registry.localAddress})`,
  );
});

afterAll(async () => {
  if (stack) fs.rmSync(stack.dir, { recursive: true, force: true }); // the fleet goes entirely
  const runId = fleet?.runId;
  await fleet?.stop();
  if (runId) {
    const containers = await run("docker", [
      "ps",
      "-a",
      "-q",
      "--filter",
      `name=${PREFIX}${runId}`,
    ]);
    const networks = await run("docker", [
      "network",
      "ls",
      "-q",
      "--filter",
      `name=${PREFIX}${runId}`,
    ]);
    expect(containers.stdout.trim()).toBe("");
    expect(networks.stdout.trim()).toBe("");
    expect(fs.existsSync(fleet!.dir)).toBe(false);
  }
  console.log(`fleet smoke test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

describe("the test fleet", () => {
  it("runs docker, nginx, cron and sshd on each host; systemd is PID 1 on h3", async () => {
    for (const host of f().hosts) {
      const ready = await f().exec(host.name, ["/fleet/ready.sh"]);
      expect({ host: host.name, ready: ready.output }).toEqual({ host: host.name, ready: "" });
      for (const daemon of ["dockerd", "nginx", "cron", "sshd"])
        expect((await f().exec(host.name, ["pgrep", "-x", daemon])).code).toBe(0);
      expect((await f().docker(host.name, ["info", "--format", "{{.Driver}}"])).stdout.trim()).toBe(
        "vfs",
      );
      const pid1 = (await f().exec(host.name, ["ps", "-o", "comm=", "-p", "1"])).stdout.trim();
      expect({ host: host.name, pid1 }).toEqual({
        host: host.name,
        pid1: host.systemd ? "systemd" : "init.sh",
      });
    }
    const h3 = f().hosts.find((h) => h.systemd)!;
    const state = (await f().exec(h3.name, ["systemctl", "is-system-running"])).stdout.trim();
    expect(["running", "degraded"]).toContain(state);
    for (const unit of ["docker", "nginx", "cron", "ssh"])
      expect((await f().exec(h3.name, ["systemctl", "is-active", unit])).stdout.trim()).toBe(
        "active",
      );
  });

  it("lets root in over SSH with the fleet's key, on each host", async () => {
    for (const host of f().hosts) {
      const r = await run("ssh", [
        "-i",
        f().keyFile,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-p",
        String(host.sshPort),
        "root@127.0.0.1",
        "hostname",
      ]);
      expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: host.name });
    }
  });

  it("stops and starts sshd, by hand (h2) and by systemctl (h3)", async () => {
    for (const host of ["h2", "h3"]) {
      await f().stopSshd(host);
      expect({ host, code: (await f().ssh(host, "true")).code }).toEqual({ host, code: 255 });
      await f().startSshd(host);
      expect({ host, code: (await f().ssh(host, "true")).code }).toEqual({ host, code: 0 });
    }
  });

  it("has a registry that wants credentials, over TLS every host trusts", async () => {
    const image = await f().pushImage(`conductor-hello:${REVISION}`, "conductor/hello", REVISION);
    expect(image).toBe(`${f().registry.address}/conductor/hello:${REVISION}`);
    const anonymous = await f().docker("h1", ["pull", image]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.output).toContain("no basic auth credentials");
    const login = await f().docker(
      "h1",
      ["login", "--username", f().registry.username, "--password-stdin", f().registry.address],
      { input: f().registry.password },
    );
    expect(login.output).toContain("Login Succeeded");
    try {
      const pulled = await f().docker("h1", ["pull", image]);
      expect({ code: pulled.code, output: pulled.output }).toMatchObject({ code: 0 });
    } finally {
      await f().docker("h1", ["logout", f().registry.address]);
      await f().docker("h1", ["image", "rm", image]);
    }
  });

  it("deploys with conductor to all three hosts over SSH, served through the front LB", async () => {
    await f().loadImage(`conductor-hello:${REVISION}`);
    stack = await TestStack.create(STACK);
    await stack.setSecret("conductor:sshPrivateKey", f().privateKey);
    await stack.writeConfig({
      "conductor:app": APP,
      "conductor:revision": REVISION,
      "conductor:hosts": Object.fromEntries(
        f().hosts.map((h) => [h.name, { address: "127.0.0.1", port: h.sshPort, user: "root" }]),
      ),
      "conductor:services": {
        web: {
          image: "conductor-hello",
          replicas: 2,
          http: {
            port: 8080,
            healthCheck: { path: "/health", timeout: "1s", interval: "200ms", deadline: "30s" },
            nginx: { listen: 80 },
          },
          stopTimeout: "10s",
        },
      },
    });
    await stack.upOk();

    for (const host of f().hosts) {
      const ps = await f().docker(host.name, [
        "ps",
        "--filter",
        `label=conductor.service=${SERVICE_ID}`,
        "--format",
        "{{.Names}}",
      ]);
      expect({ host: host.name, containers: ps.stdout.split("\n").filter(Boolean).length }).toEqual(
        {
          host: host.name,
          containers: 2,
        },
      );
      // Each host's own nginx serves it too.
      expect(await get(`http://127.0.0.1:${host.httpPort}/`)).toEqual({
        status: 200,
        body: REVISION,
      });
    }
    const upstreams = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await front();
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: REVISION });
      upstreams.add(r.upstream);
    }
    // Round robin over the three hosts.
    expect(upstreams.size).toBe(3);
  });

  it("balances over the hosts it is given", async () => {
    const ports = (names: string[]) => names.map((n) => `127.0.0.1:${f().host(n).httpPort}`);
    await f().setFrontHosts(["h2", "h3"]);
    for (let i = 0; i < 6; i++) {
      const r = await front();
      expect(r.status).toBe(200);
      expect(ports(["h2", "h3"])).toContain(r.upstream);
    }
    await f().setFrontHosts(["h1", "h2", "h3"]);
  });

  it("reboots a host: its daemons come back, and the front LB serves from the others meanwhile", async () => {
    const before = (await f().exec("h1", ["cat", "/proc/1/stat"])).stdout;
    await f().reboot("h1");
    expect((await f().exec("h1", ["cat", "/proc/1/stat"])).stdout).not.toBe(before);
    expect((await f().exec("h1", ["/fleet/ready.sh"])).code).toBe(0);
    expect((await f().ssh("h1", "hostname")).stdout.trim()).toBe("h1");
    // conductor's containers and files survive in the host's writable layer
    // (stopped: whether they come back is the supervisor's business).
    const ps = await f().docker("h1", [
      "ps",
      "-a",
      "--filter",
      `label=conductor.service=${SERVICE_ID}`,
      "--format",
      "{{.Names}}",
    ]);
    expect(ps.stdout.split("\n").filter(Boolean)).toHaveLength(2);
    expect((await f().exec("h1", ["test", "-d", "/var/lib/conductor"])).code).toBe(0);
    // With h1's containers stopped its nginx answers 502 (unless conductor's
    // supervisor started them again already): the front LB tries the next host.
    const direct = await get(`http://127.0.0.1:${f().host("h1").httpPort}/`);
    console.log(`h1 after its reboot answers ${direct.status} itself`);
    expect([200, 502]).toContain(direct.status);
    for (let i = 0; i < 9; i++) {
      const r = await front();
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: REVISION });
    }
    // A whole host down: the same.
    await f().stopHost("h2");
    for (let i = 0; i < 9; i++) {
      const r = await front();
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: REVISION });
    }
    await f().startHost("h2");
  });
});
