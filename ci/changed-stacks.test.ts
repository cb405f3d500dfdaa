import { main, stacksToPreview } from "./changed-stacks";

const STACKS = ["staging", "production"];

describe("stacksToPreview", () => {
  test.each([
    ["a stack's config: that stack", ["Pulumi.staging.yaml"], ["staging"]],
    [
      "both configs: both, in the given order",
      ["Pulumi.production.yaml", "Pulumi.staging.yaml"],
      STACKS,
    ],
    ["the dev stack's config: none", ["Pulumi.dev.yaml"], []],
    ["program code: all", ["components/service.ts"], STACKS],
    ["the project file: all", ["Pulumi.yaml"], STACKS],
    ["dependencies: all", ["package-lock.json"], STACKS],
    ["a workflow: all, so the workflow is tried", [".github/workflows/pull-request.yml"], STACKS],
    ["the summary script: all", ["ci/summary/model.ts"], STACKS],
    ["a file in a folder nobody listed: all", ["newdir/thing.ts"], STACKS],
    [
      "docs and tests only: none",
      [
        "README.md",
        "ci/README-section.md",
        "test/e2e/deploy.test.ts",
        "config/schema.test.ts",
        "components/mocks.testutil.ts",
        "ci/golden/destructive.json",
      ],
      [],
    ],
    ["docs plus one config: that stack", ["README.md", "Pulumi.production.yaml"], ["production"]],
    ["nothing", [], []],
  ])("%s", (_what, files, expected) => {
    expect(stacksToPreview(files, STACKS)).toEqual(expected);
  });
});

describe("changed-stacks command", () => {
  test("reads git's file list on stdin, prints a JSON list", () => {
    let out = "";
    const code = main(STACKS, "README.md\nPulumi.staging.yaml\n", (t) => (out += t));
    expect({ code, out }).toEqual({ code: 0, out: '["staging"]\n' });
  });

  test("needs the stack names", () => {
    let out = "";
    expect(main([], "", (t) => (out += t))).toBe(2);
    expect(out).toMatch(/^usage: /);
  });
});
