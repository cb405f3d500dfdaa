// Which revision `npx conductor rollback` deploys, what it says it leaves
// alone, and what it refuses. Not proven here: pulumi config set, preview and
// up (test/fleet/operating.test.ts).
import { fleet, REV } from "./fixtures.testutil";
import { parseHistory, releasesOf } from "./history";
import { describePlan, planRollback } from "./rollback";

const updates = (...revisions: [number, string, string][]) =>
  releasesOf(
    parseHistory(
      JSON.stringify(
        revisions.map(([version, revision, result]) => ({
          version,
          kind: "update",
          result,
          startTime: `2025-06-0${version}T10:00:00.000Z`,
          endTime: `2025-06-0${version}T10:01:00.000Z`,
          config: { "conductor:revision": { value: revision, secret: false } },
        })),
      ),
    ),
  );

const history = updates([3, REV.c, "succeeded"], [2, REV.b, "succeeded"], [1, REV.a, "succeeded"]);

describe("planRollback", () => {
  it("goes to the previous successful revision and names the pinned services", () => {
    const plan = planRollback(fleet(), { worker: REV.a }, history);
    expect({ ...plan, release: plan.release?.revision }).toStrictEqual({
      from: REV.c,
      to: REV.b,
      release: REV.b,
      pinned: [["worker", REV.a]],
      following: ["web"],
    });
    expect(describePlan("production", plan)).toBe(
      [
        "Rolling back stack production: conductor:revision ccccccc -> bbbbbbb (deployed 2025-06-02 10:01:00Z, update 2).",
        "Services that follow conductor:revision: web.",
        "Left as they are, with their own revision: worker (aaaaaaa).",
        "",
      ].join("\n"),
    );
  });

  it("skips a failed one", () => {
    const h = updates([3, REV.c, "succeeded"], [2, REV.b, "failed"], [1, REV.a, "succeeded"]);
    expect(planRollback(fleet(), {}, h).to).toBe(REV.a);
  });

  it("goes --to a revision, also one not in the history, and says so", () => {
    expect(planRollback(fleet(), {}, history, REV.a).to).toBe(REV.a);
    const plan = planRollback(fleet(), {}, history, "1234567");
    expect(describePlan("production", plan)).toContain(
      "(not in the stack's history: its images may have to be pulled)",
    );
  });

  it.each<[string, Parameters<typeof planRollback>]>([
    [
      "no earlier successful revision in the history of stack production (npx conductor releases lists them)",
      [fleet(), {}, updates([1, REV.c, "succeeded"])],
    ],
    ["stack production runs ccccccc already", [fleet(), {}, history, REV.c]],
    [
      "every service of stack production sets its own revision: conductor:revision changes none of them",
      [fleet(), { web: REV.a, worker: REV.a }, history],
    ],
    [
      '--to: expected a git commit SHA of 7 to 40 lowercase hex digits, got "main"',
      [fleet(), {}, history, "main"],
    ],
  ])("refuses: %s", (message, args) => {
    expect(() => planRollback(...args)).toThrow(message);
  });
});
