// Holds' own rules, apart from the loop (loop.test.ts drives them through
// Docker's events and the nginx batch).
import type { ContainerSpec } from "../../protocol/requests";
import { type FakeHost, fakeHost } from "../fakes.testutil";
import { Holds, stopsApp } from "./holds";

const WEB = "shop_web_production";
const W0 = `${WEB}-0-aaaaaaaaaa`;
const spec = (stopSignal?: string): ContainerSpec => ({
  serviceId: WEB,
  slot: 0,
  image: "registry.example.com/shop/app",
  revision: "279d903",
  env: {},
  http: {
    port: 3000,
    healthCheck: { path: "/health", timeoutMs: 1000, intervalMs: 1000, deadlineMs: 5000 },
  },
  stopTimeoutMs: 30_000,
  ...(stopSignal && { stopSignal }),
});

let host: FakeHost;
beforeEach(() => {
  host = fakeHost();
  host.store.writeHolds({ [WEB]: { [W0]: { port: 20000, since: 1 } } });
});
afterEach(() => host.cleanup());

const stoppingNow = () => {
  const read = host.store.readHolds();
  return read.status === "ok" ? read.value[WEB]?.[W0]?.stopping === true : undefined;
};

describe("a kill event holds a replica as stopping only for a signal that stops it", () => {
  it.each([["15"], ["9"], ["2"], ["3"], ["SIGTERM"]])("signal %s: stopping", (signal) => {
    host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec() });
    new Holds(host.fx, host.logLine).stopping(WEB, W0, true, signal);
    expect(stoppingNow()).toBe(true);
  });

  it.each([["1"], ["10"], ["SIGHUP"]])(
    "signal %s (a log reopen, a reload): not stopping",
    (signal) => {
      host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec() });
      new Holds(host.fx, host.logLine).stopping(WEB, W0, true, signal);
      expect(stoppingNow()).toBe(false);
    },
  );

  it("counts the spec's own stop signal", () => {
    host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec("SIGUSR2") });
    new Holds(host.fx, host.logLine).stopping(WEB, W0, true, "12");
    expect(stoppingNow()).toBe(true);
  });

  it("names and numbers alike", () => {
    expect(stopsApp("SIGWINCH")).toBe(false);
    expect(stopsApp("28")).toBe(false);
    expect(stopsApp("QUIT")).toBe(true);
    expect(stopsApp("1", "HUP")).toBe(true);
  });
});

describe("probing held replicas", () => {
  const W1 = `${WEB}-1-bbbbbbbbbb`;
  it("never waits for a probe: an app that accepts and never answers holds nothing else back", async () => {
    host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec() });
    host.store.writeContainer({ name: W1, hostPort: 20001, spec: { ...spec(), slot: 1 } });
    host.store.writeHolds({
      [WEB]: { [W0]: { port: 20000, since: 1 }, [W1]: { port: 20001, since: 1 } },
    });
    const fx = {
      ...host.fx,
      probe: (port: number) =>
        port === 20000
          ? new Promise<never>(() => undefined)
          : host.fx.probe(port, { path: "/health", timeoutMs: 1000 } as never),
    };
    const holds = new Holds(fx as typeof host.fx, host.logLine);
    await holds.releaseHealthy(host.logLine);
    expect(host.log).toContainEqual(
      expect.stringMatching(new RegExp(`^${WEB} ${W1}: answers its health check .*back in nginx$`)),
    );
    expect(holds.sinceOf(WEB, W0)).toBe(1);
    // Looked at again, it is not probed a second time while the first runs.
    await holds.releaseHealthy(host.logLine);
    expect(holds.sinceOf(WEB, W0)).toBe(1);
  });
});

describe("a held replica's healthy answer", () => {
  it("is taken at the next look even when a probe takes longer than one turn of the loop", async () => {
    host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec() });
    const slowProbe = () =>
      new Promise<{ healthy: boolean }>((r) => setTimeout(() => r({ healthy: true }), 20));
    const holds = new Holds({ ...host.fx, probe: slowProbe } as typeof host.fx, host.logLine);
    await holds.releaseHealthy(host.logLine); // starts the probe; it has not answered yet
    expect(holds.sinceOf(WEB, W0)).toBe(1);
    await new Promise((r) => setTimeout(r, 50)); // it answers
    host.clock.now += 1_000; // the next probe is due: it must not replace the answer
    await holds.releaseHealthy(host.logLine);
    expect(holds.sinceOf(WEB, W0)).toBeUndefined();
  });
});

describe("a backup mark with no hold behind it", () => {
  it("is found on a pass and the file written again (a lift whose commit failed)", async () => {
    const site = [
      `upstream conductor_${WEB} {`,
      "    server 127.0.0.1:20000 max_fails=0 backup; # held out by conductor supervise until it answers its health check",
      "    server 127.0.0.1:20001 max_fails=0;",
      "}",
      "",
    ].join("\n");
    host.fx.nginxConfDir.write(`conductor-${WEB}.conf`, site);
    host.store.writeHolds({});
    const holds = new Holds(host.fx, host.logLine);
    holds.dropReplaced([{ serviceId: WEB, containers: [W0] } as never], host.logLine);
    for (let i = 0; i < 50 && host.fx.nginxConfDir.read(`conductor-${WEB}.conf`) === site; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(host.fx.nginxConfDir.read(`conductor-${WEB}.conf`)).toBe(
      site.replace(
        " backup; # held out by conductor supervise until it answers its health check",
        ";",
      ),
    );
    expect(host.log[0]).toBe(
      `${WEB}: its nginx file's holds differ from holds.json; writing it again`,
    );
  });
});
