// Several services deployed at once on one host: their nginx changes go in
// one batch, so nginx reloads once per deploy (counted by its worker
// generations), and not one request fails under fresh-connection load on
// every service while their revisions change.
import { buildExample, containersOf, get } from "./docker";
import { hostsFor } from "./fixtures";
import { TestStack } from "./harness";
import { type Load, startLoad } from "./load";
import { nginxReloadsDuring } from "./nginx-reloads";

const APP = "batch";
const SERVICES = ["web0", "web1", "web2", "web3", "web4"];
const LISTEN_BASE = 18140;
const REVISIONS = ["ba1ba1b", "ba2ba2b", "ba3ba3b"];

const url = (i: number) => `http://127.0.0.1:${LISTEN_BASE + i}/`;

function config(revision: string): Record<string, unknown> {
  return {
    "conductor:app": APP,
    "conductor:revision": revision,
    "conductor:hosts": hostsFor("local"),
    "conductor:services": Object.fromEntries(
      SERVICES.map((name, i) => [
        name,
        {
          image: "conductor-hello",
          hosts: ["box"],
          replicas: 2,
          http: {
            port: 8080,
            healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "20s" },
            nginx: { listen: LISTEN_BASE + i, serverName: "localhost" },
          },
          stopTimeout: "10s",
        },
      ]),
    ),
  };
}

describe(`${SERVICES.length} services x 2 on one host`, () => {
  let stack: TestStack;
  let loads: Load[] = [];

  const deploy = async (revision: string) => {
    await stack.writeConfig(config(revision));
    const { result, reloads } = await nginxReloadsDuring(() => stack.up());
    if (result.code !== 0) throw new Error(result.output);
    return reloads;
  };

  const expectServing = async (revision: string) => {
    for (const i of SERVICES.keys())
      expect(await get(url(i))).toEqual({ status: 200, body: revision });
  };

  beforeAll(async () => {
    await Promise.all(REVISIONS.map((r) => buildExample(r)));
    stack = await TestStack.create(APP);
  });

  afterAll(async () => {
    await Promise.all(loads.map((l) => l.stop()));
    await stack?.dispose();
  });

  it("installs every service's nginx site with one reload", async () => {
    expect(await deploy(REVISIONS[0])).toBe(1);
    await expectServing(REVISIONS[0]);
    loads = SERVICES.map((_, i) => startLoad(url(i), { concurrency: 1 }));
  });

  it.each([REVISIONS[1], REVISIONS[2]])(
    "switches every service to %s with one reload",
    async (revision) => {
      expect(await deploy(revision)).toBe(1);
      await expectServing(revision);
      for (const name of SERVICES) {
        const containers = await containersOf(`${APP}_${name}_${APP}`);
        expect(containers.map((c) => c.state)).toEqual(["running", "running"]);
      }
    },
  );

  it("dropped no request on any service", async () => {
    const reports = await Promise.all(loads.map((l) => l.stop()));
    loads = [];
    console.log(`nginx batch: ${JSON.stringify(reports)}`);
    for (const report of reports) {
      expect(report.failureReasons).toEqual({});
      expect(report.requests).toBeGreaterThan(20);
      expect(Object.keys(report.answers).sort()).toEqual(REVISIONS);
    }
  });

  it("removes every site with one reload", async () => {
    const { reloads } = await nginxReloadsDuring(() => stack.destroy());
    expect(reloads).toBe(1);
  });
});
