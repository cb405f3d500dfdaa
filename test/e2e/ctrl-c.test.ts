// One Ctrl-C during a deploy is safe: `pulumi up` sent one SIGINT (to its
// process group, as a terminal sends it) at points through a deploy ends by
// itself, leaves the stack unlocked (the next `up` runs without `pulumi
// cancel`), drops no request meanwhile, and the next `up` converges: preview
// shows no changes and no container is left over.
// Not proven here: a second Ctrl-C (the CLI then stops at once, as a kill does:
// test/e2e/interrupted.test.ts), or an interrupt over SSH (this host is local).
import { buildExample } from "./docker";
import { expectNextUpConverges } from "./converge";
import { serviceId, webConfig } from "./fixtures";
import { TestStack } from "./harness";
import { type Load, startLoad } from "./load";

const LISTEN = 18114;
const APP = "ctrlc";
const REVISIONS = ["5e5e5e5", "6f6f6f6", "7a7a7a7", "8b8b8b8"];
// Points of a deploy, by what `pulumi up` prints: before the CLI is set up,
// the program running, each step of the deploy under way.
const POINTS: [string, number | RegExp][] = [
  ["at start", 300],
  ["while the program runs", 2000],
  ["while the image is checked", /fleet:index:Image web-box-image updating/],
  ["while new containers start", /fleet:index:Container web-box-\d creating replacement/],
  ["while nginx switches", /fleet:index:NginxSite web-box-nginx updating/],
  ["while the release is written", /fleet:index:Release web-box-release updating/],
  ["while old containers stop", /fleet:index:Container web-box-\d deleting original/],
];

describe("one Ctrl-C during a deploy", () => {
  let stack: TestStack;
  let load: Load;
  const id = serviceId(APP, "ctrlc");
  const url = `http://127.0.0.1:${LISTEN}/`;
  const configFor = (revision: string) =>
    webConfig({ app: APP, revision, kind: "local", listen: LISTEN });
  const outcomes: string[] = [];

  beforeAll(async () => {
    await Promise.all(REVISIONS.map((r) => buildExample(r)));
    stack = await TestStack.create("ctrlc");
    await stack.writeConfig(configFor(REVISIONS[0]));
    await stack.upOk();
    load = startLoad(url, { concurrency: 4 });
  });

  afterAll(async () => {
    await load?.stop();
    await stack?.dispose();
    console.log(`ctrl-c: ${outcomes.join("; ")}`);
  });

  it.each(POINTS.map(([name, when], i) => [name, when, i] as const))(
    "ends by itself and converges after a SIGINT %s",
    async (name, when, i) => {
      const revision = REVISIONS[(i % 3) + 1];
      await stack.writeConfig(configFor(revision));
      const started = Date.now();
      const interrupted = await stack.upInterrupted(when);
      const afterSignal = interrupted.output.split("^C received")[1] ?? "";
      const finished = afterSignal.match(/ (created replacement|updated|deleted original) /g);
      outcomes.push(
        `${name}: ${interrupted.signal ?? `exit ${interrupted.code}`} after ${Date.now() - started}ms, steps finished after the signal: ${finished?.length ?? 0}`,
      );
      expect(interrupted.interrupted).toBe(true);
      if (interrupted.signal) {
        // Before the CLI sets up its handler, SIGINT ends it as it ends any
        // program: then it had not begun the update, or printed anything.
        expect(interrupted.output).toBe("");
      } else if (interrupted.interrupted && interrupted.code !== 0) {
        expect(interrupted.output).toMatch(/cancel/i);
      }
      // No `pulumi cancel`: a locked stack fails this up.
      await expectNextUpConverges(stack, id, url, revision);
    },
  );

  it("dropped no request", async () => {
    const report = await load.stop();
    console.log(`ctrl-c deploys: ${JSON.stringify(report)}`);
    expect(report.failureReasons).toEqual({});
    expect(report.requests).toBeGreaterThan(100);
  });
});
