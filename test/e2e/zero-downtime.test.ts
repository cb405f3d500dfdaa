// Zero-downtime deploys, measured: a load generator sends requests through
// nginx, each on a fresh connection, while we deploy new revisions, scale up
// and down, and deploy a revision whose health check never passes. Not one
// request may fail. Run against the local host and over SSH to this machine.
//
// What this does not prove: behaviour under keep-alive clients (reported,
// not asserted; see PULUMI-NOTES.md), or with more than one host.
import * as fs from "node:fs";
import { buildExample, containersOf, exists, get, nginxFile } from "./docker";
import { type HostKind, serviceId, webConfig } from "./fixtures";
import { TestStack } from "./harness";
import { type Load, startLoad } from "./load";
import { authorizeTestKey, type SshKey } from "./ssh";

const REVISIONS = { a: "a1a1a1a", b: "b2b2b2b", c: "c3c3c3c", bad: "bad0bad" };

beforeAll(async () => {
  await Promise.all([
    buildExample(REVISIONS.a),
    buildExample(REVISIONS.b),
    buildExample(REVISIONS.c),
  ]);
  await buildExample(REVISIONS.bad, "--unhealthy");
});

describe.each<[HostKind, number]>([
  ["local", 18101],
  ["ssh", 18102],
])("zero-downtime deploys to a %s host", (kind, listen) => {
  const app = `zd${kind}`;
  const id = serviceId(app, "zd");
  const url = `http://127.0.0.1:${listen}/`;
  let stack: TestStack;
  let key: SshKey | undefined;
  let load: Load;
  let keepAliveLoad: Load;

  const deploy = async (revision: string, replicas = 2) => {
    await stack.writeConfig(webConfig({ app, revision, kind, listen, replicas }));
    return stack.up();
  };

  const expectServing = async (revision: string) => {
    // Every answer after the deploy returned comes from the new revision.
    for (let i = 0; i < 20; i++) expect(await get(url)).toEqual({ status: 200, body: revision });
  };

  const expectContainers = async (count: number) => {
    const containers = await containersOf(id);
    expect(containers).toHaveLength(count);
    expect(containers.every((c) => c.state === "running")).toBe(true);
  };

  beforeAll(async () => {
    stack = await TestStack.create("zd");
    if (kind === "ssh") {
      key = await authorizeTestKey(app);
      await stack.setSecret("conductor:sshPrivateKey", key.privateKey);
    }
    const first = await deploy(REVISIONS.a);
    if (first.code !== 0) throw new Error(first.output);
    await expectServing(REVISIONS.a);
    load = startLoad(url, { concurrency: 4 });
    keepAliveLoad = startLoad(url, { concurrency: 2, keepAlive: true });
  });

  afterAll(async () => {
    await load?.stop();
    await keepAliveLoad?.stop();
    await stack?.dispose();
    key?.remove();
  });

  it("switches to a new revision", async () => {
    expect((await deploy(REVISIONS.b)).code).toBe(0);
    await expectServing(REVISIONS.b);
    await expectContainers(2);
  });

  it("switches again", async () => {
    expect((await deploy(REVISIONS.c)).code).toBe(0);
    await expectServing(REVISIONS.c);
  });

  it("scales 2 -> 3 -> 1", async () => {
    expect((await deploy(REVISIONS.c, 3)).code).toBe(0);
    await expectContainers(3);
    expect((await deploy(REVISIONS.c, 1)).code).toBe(0);
    await expectContainers(1);
    await expectServing(REVISIONS.c);
  });

  it("fails a deploy whose health check never passes, and keeps the old revision serving", async () => {
    const nginxBefore = fs.readFileSync(nginxFile(id), "utf8");
    const result = await deploy(REVISIONS.bad, 1);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/did not become healthy: GET \/health on port \d+: HTTP 503/);
    expect(result.output).toContain(`revision ${REVISIONS.bad}: listening on :8080`); // its last log lines
    await expectServing(REVISIONS.c);
    await expectContainers(1);
    expect(fs.readFileSync(nginxFile(id), "utf8")).toBe(nginxBefore);
  });

  it("dropped no request through all of it", async () => {
    const report = await load.stop();
    const keepAlive = await keepAliveLoad.stop();
    console.log(
      `${kind}: fresh connections ${JSON.stringify(report)}\n${kind}: keep-alive ${JSON.stringify(keepAlive)}`,
    );
    expect(report.failureReasons).toEqual({});
    expect(report.failures).toBe(0);
    expect(report.requests).toBeGreaterThan(100);
    expect(Object.keys(report.answers).sort()).toEqual([REVISIONS.a, REVISIONS.b, REVISIONS.c]);
  });

  it("converges: the same config again changes nothing, and destroy removes everything", async () => {
    expect((await deploy(REVISIONS.c, 1)).code).toBe(0);
    await stack.pulumiOk(["preview", "--expect-no-changes"]);
    await stack.destroy();
    expect(await containersOf(id)).toEqual([]);
    expect(exists(nginxFile(id))).toBe(false);
  });
});
