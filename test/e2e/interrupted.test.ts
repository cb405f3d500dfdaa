// A deploy killed at any moment (`pulumi up`'s process group, with SIGKILL;
// its plugins run in groups of their own and outlive it, as after a cancelled
// CI job) is finished by the next `pulumi up`: no container left over, no
// process of the killed run left running, and no failed request meanwhile.
//
// Recovery, as the README tells operators: `pulumi cancel` (the killed run
// still holds the stack's lock), then `pulumi up` again.
import { buildExample } from "./docker";
import { expectNextUpConverges } from "./converge";
import { serviceId, webConfig } from "./fixtures";
import { type ProcessSeen, stillRunning, TestStack } from "./harness";
import { type Load, startLoad } from "./load";

const LISTEN = 18103;
const APP = "intr";
const REVISIONS = ["1a1a1a1", "2b2b2b2", "3c3c3c3", "4d4d4d4"];
// Into the deploy: program start, containers starting, nginx, release, deletes.
const KILL_AFTER_MS = [1200, 2000, 2600, 3200, 3800, 4600, 5500];

/**
 * Nothing of a killed deploy may run on for good: the language host and the
 * provider see the engine gone within a second (toolchain/language-host,
 * provider/orphan.ts), the program and `conductor serve` follow them.
 */
async function expectAllExit(seen: ProcessSeen[]) {
  // The host's supervisor, had the killed run been the one to start it, is meant to stay.
  seen = seen.filter((p) => !/ supervise$/.test(p.args));
  // `conductor serve` finishes the requests it has first: a stop may drain for its timeout.
  const deadline = Date.now() + 30_000;
  while (stillRunning(seen).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(stillRunning(seen).map((p) => p.args)).toEqual([]);
}

describe("interrupted deploys", () => {
  let stack: TestStack;
  let load: Load;
  const id = serviceId(APP, "intr");
  const url = `http://127.0.0.1:${LISTEN}/`;
  const configFor = (revision: string) =>
    webConfig({ app: APP, revision, kind: "local", listen: LISTEN });

  beforeAll(async () => {
    await Promise.all(REVISIONS.map((r) => buildExample(r)));
    stack = await TestStack.create("intr");
    await stack.writeConfig(configFor(REVISIONS[0]));
    await stack.upOk();
    load = startLoad(url, { concurrency: 4 });
  });

  afterAll(async () => {
    await load?.stop();
    await stack?.dispose();
  });

  it.each(KILL_AFTER_MS.map((ms, i) => [ms, i]))(
    "converges after a kill %ims into a deploy",
    async (ms, i) => {
      const killedRevision = REVISIONS[(i % 3) + 1];
      await stack.writeConfig(configFor(killedRevision));
      const { below } = await stack.upKilledAfter(ms);
      await expectAllExit(below);
      // Every other time, the operator also changes the revision before trying
      // again, so containers the killed run started are no longer wanted.
      const finalRevision = i % 2 === 0 ? killedRevision : REVISIONS[0];
      await stack.writeConfig(configFor(finalRevision));
      await stack.pulumiOk(["cancel", "--yes"]);
      await expectNextUpConverges(stack, id, url, finalRevision);
    },
  );

  it("dropped no request", async () => {
    const report = await load.stop();
    console.log(`interrupted deploys: ${JSON.stringify(report)}`);
    expect(report.failureReasons).toEqual({});
    expect(report.requests).toBeGreaterThan(100);
  });
});
