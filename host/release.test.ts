// `release apply|remove` against a fake Docker and a temp store: the release
// file (in the format earlier versions wrote), and which containers it stops.
import * as fs from "node:fs";
import type { ContainerSpec, ReleaseRequest } from "../protocol/requests";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { releaseApply, releaseRemove } from "./release";

const ID = "shop_web_production";
const REQUEST: ReleaseRequest = {
  serviceId: ID,
  image: "registry.example.com/shop/web",
  revision: "279d903",
  command: ["bin/web"],
  env: { SECRET: "hunter2" },
  containers: ["shop_web_production-0-new0000000", "shop_web_production-1-new1111111"],
  supervise: true,
};
const spec = (stopTimeoutMs: number): ContainerSpec => ({
  serviceId: ID,
  slot: 0,
  image: REQUEST.image,
  revision: "0000000",
  env: {},
  stopTimeoutMs,
});

let host: FakeHost;
beforeEach(() => {
  host = fakeHost();
  const service = { "conductor.service": ID };
  for (const name of REQUEST.containers) host.docker.add(name, "running", service);
  host.docker.add("shop_web_production-0-old0000000", "running", service);
  host.docker.add("shop_web_production-1-old1111111", "exited", service);
  host.docker.add("shop_web_production-9-unrecorded", "running", service);
  host.docker.add("shop_api_production-0-api0000000", "running", {
    "conductor.service": "shop_api_production",
  });
  host.store.writeContainer({ name: "shop_web_production-0-old0000000", spec: spec(10_000) });
  host.store.writeContainer({ name: "shop_web_production-1-old1111111", spec: spec(1_500) });
  host.trace.length = 0;
});
afterEach(() => host.cleanup());

const apply = () => releaseApply(REQUEST, host.logLine, host.fx);

describe("release apply", () => {
  it("writes the release as earlier versions did: the request as JSON, root-only", async () => {
    await apply();
    const file = host.store.releaseFile(ID);
    expect(fs.readFileSync(file, "utf8")).toBe(JSON.stringify(REQUEST, null, 2));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(host.store.readRelease(ID)).toEqual({ status: "ok", value: REQUEST });
  });

  it("keeps what one-offs run with (volumes, limits, user, stop signal, labels) after the fields earlier versions wrote", async () => {
    const runtime = {
      volumes: [{ source: "/srv/certs", target: "/certs", readOnly: true }],
      resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 },
      user: "app",
      stopSignal: "SIGQUIT",
      labels: { team: "payments" },
    };
    await releaseApply({ ...REQUEST, ...runtime }, host.logLine, host.fx);
    const file = host.store.releaseFile(ID);
    expect(fs.readFileSync(file, "utf8")).toBe(JSON.stringify({ ...REQUEST, ...runtime }, null, 2));
    expect(host.store.readRelease(ID)).toEqual({ status: "ok", value: { ...REQUEST, ...runtime } });
  });

  it("stops only this service's containers that are not in the release, each with its own record's timeout", async () => {
    await apply();
    expect(host.trace.slice(0, 3)).toEqual([
      `docker list conductor.service=${ID}`,
      `store write release ${ID}`,
      `lock service-${ID}`,
    ]);
    expect(host.trace.at(-1)).toBe(`unlock service-${ID}`);
    const stops = host.trace.filter((t) => t.startsWith("docker stop")).sort();
    expect(stops).toEqual([
      "docker stop shop_web_production-0-old0000000 10s",
      "docker stop shop_web_production-1-old1111111 2s",
      "docker stop shop_web_production-9-unrecorded 30s", // never recorded: the default
    ]);
    expect([...host.docker.containers.keys()].sort()).toEqual([
      "shop_api_production-0-api0000000",
      ...REQUEST.containers,
    ]);
    expect(host.store.readContainers().values).toEqual([]);
    expect(host.log.sort()).toEqual([
      `shop_web_production-0-old0000000: stopped and removed (not part of the release of ${ID})`,
      `shop_web_production-1-old1111111: stopped and removed (not part of the release of ${ID})`,
      `shop_web_production-9-unrecorded: stopped and removed (not part of the release of ${ID})`,
    ]);
  });

  it("stops the strays at once, not one after another: each waits out its stop timeout alone", async () => {
    // Each stop returns only once every stray's stop has begun; in turn, the first never would.
    const strays = 3;
    let begun = 0;
    let allBegun!: () => void;
    const everyStopBegun = new Promise<void>((r) => (allBegun = r));
    const stop = host.docker.stopContainer.bind(host.docker);
    host.docker.stopContainer = async (name, seconds) => {
      if (++begun === strays) allBegun();
      await everyStopBegun;
      return stop(name, seconds);
    };
    const outcome = await Promise.race([
      apply().then(() => "done"),
      new Promise((r) => setTimeout(() => r(`only ${begun} of ${strays} stops began`), 2000)),
    ]);
    expect(outcome).toBe("done");
  });

  it("fails when a stray cannot be removed: the deploy's own delete of it must then still run", async () => {
    host.docker.removeContainer = async (name) => {
      throw new Error(`conflict: cannot remove ${name}`);
    };
    await expect(apply()).rejects.toThrow("conflict: cannot remove");
  });

  it("removes each stray's record before stopping it", async () => {
    await apply();
    const name = "shop_web_production-0-old0000000";
    const at = (line: string) => host.trace.indexOf(line);
    expect(at(`store remove container ${name}`)).toBeLessThan(at(`docker stop ${name} 10s`));
    expect(at(`docker stop ${name} 10s`)).toBeLessThan(at(`docker remove ${name}`));
  });

  it("stops a stray whose record is corrupt with the default timeout, and says why", async () => {
    const name = "shop_web_production-0-old0000000";
    fs.writeFileSync(host.store.containerFile(name), JSON.stringify({ name }));
    await apply();
    expect(host.trace).toContain(`docker stop ${name} 30s`);
    expect(host.log).toContainEqual(
      `${name}: ${host.store.containerFile(name)} is not a container record: ` +
        "spec: Invalid input: expected object, received undefined; stopping it with the default 30s",
    );
  });
});

describe("release apply, when nginx still sends requests to a container it would stop", () => {
  // What a deploy killed after its nginx switch, then an `up` of the old
  // config, would do: nginx routes to the killed deploy's containers, and the
  // old config's release calls them strays.
  const routedStray = "shop_web_production-0-old0000000";
  beforeEach(() => {
    // Each its own labels: add() shares the object it was given.
    const port = (name: string, p: number) => {
      const c = host.docker.containers.get(name)!;
      c.labels = { ...c.labels, "conductor.port": String(p) };
    };
    port(routedStray, 32801);
    port(REQUEST.containers[0], 32811);
    host.trace.length = 0;
  });
  const site = (ports: number[]) =>
    `upstream conductor_${ID} {\n${ports.map((p) => `    server 127.0.0.1:${p} max_fails=0;\n`).join("")}    keepalive 16;\n}\n`;
  const confFile = `conductor-${ID}.conf`;

  it("stops nothing, writes no release, and says which container and what to run", async () => {
    host.fx.nginxConfDir.write(confFile, site([32801, 32811]));
    await expect(apply()).rejects.toThrow(
      `nginx on this host still sends ${ID} to ${routedStray} (127.0.0.1:32801), which this release would stop: ` +
        `${host.fx.nginxConfDir.path(confFile)} is not the file this deploy's state says`,
    );
    await expect(apply()).rejects.toThrow("Run `pulumi up --refresh`");
    expect(host.trace.filter((t) => !t.startsWith("docker list"))).toEqual([]);
    expect(fs.existsSync(host.store.releaseFile(ID))).toBe(false);
  });

  it("goes on when the file sends requests only to the release's containers", async () => {
    host.fx.nginxConfDir.write(confFile, site([32811]));
    await apply();
    expect(host.trace).toContain(`docker stop ${routedStray} 10s`);
  });

  it("goes on when the service has no nginx file", async () => {
    await apply();
    expect(host.trace).toContain(`docker stop ${routedStray} 10s`);
  });
});

describe("release remove", () => {
  it("removes the release file, and is fine without one", async () => {
    await apply();
    await releaseRemove({ serviceId: ID }, host.logLine, host.fx);
    expect(fs.existsSync(host.store.releaseFile(ID))).toBe(false);
    await releaseRemove({ serviceId: ID }, host.logLine, host.fx);
  });
});
