// What issue 7 asks of the workflows, checked on their text (actionlint,
// ci/actionlint.sh, checks that they are valid workflows at all). Read per job:
// the lines under `jobs:` from one two-space-indented key to the next.
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const GITHUB = path.join(ROOT, ".github");

function read(relative: string): string {
  return fs.readFileSync(path.join(GITHUB, relative), "utf8");
}

function jobs(workflow: string): Record<string, string> {
  const body = workflow.slice(workflow.indexOf("\njobs:\n") + "\njobs:\n".length);
  const blocks: Record<string, string> = {};
  let current = "";
  for (const line of body.split("\n")) {
    const key = /^ {2}([A-Za-z0-9_-]+):$/.exec(line);
    if (key) current = key[1];
    else if (current) blocks[current] = `${blocks[current] ?? ""}${line}\n`;
  }
  return blocks;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : [path.relative(GITHUB, full)];
  });
}

describe("pull requests", () => {
  const pr = jobs(read("workflows/pull-request.yml"));

  test("preview runs after the checks, one job per changed stack", () => {
    expect(pr.preview).toContain("needs: [checks, stacks]");
    expect(pr.preview).toContain("stack: ${{ fromJSON(needs.stacks.outputs.stacks) }}");
  });

  test("one comment per stack, edited in place, with the summary added to it", () => {
    expect(pr.preview).toMatch(/command: preview\n/);
    expect(pr.preview).toMatch(/comment-on-pr: true\n/);
    expect(pr.preview).toMatch(/edit-pr-comment: true\n/);
    expect(pr.preview).toContain("ci/preview-summary.ts");
    expect(pr.preview).toContain("ci/pr-comment.ts");
  });
});

describe("deploys", () => {
  const deploy = jobs(read("workflows/deploy.yml"));
  const up = jobs(read("workflows/deploy-stack.yml")).up;

  test("staging after the checks, production after staging", () => {
    expect(deploy.staging).toMatch(/needs: checks\n[\s\S]*stack: staging\n/);
    expect(deploy.production).toMatch(/needs: staging\n[\s\S]*stack: production\n/);
  });

  test("each stack deploys in its own environment, one deploy at a time, never cancelled", () => {
    expect(up).toContain("environment: ${{ inputs.stack }}");
    expect(up).toMatch(
      /concurrency:\n {6}group: deploy-\$\{\{ inputs\.stack \}\}\n {6}cancel-in-progress: false\n/,
    );
    expect(up).toMatch(/command: up\n/);
  });
});

describe("the policy pack", () => {
  const preview = jobs(read("workflows/pull-request.yml")).preview;
  const up = jobs(read("workflows/deploy-stack.yml")).up;

  test("guards every preview and every deploy", () => {
    expect(preview).toMatch(/command: preview\n[\s\S]*policyPacks: policy\n/);
    expect(preview).toMatch(/pulumi preview [^\n]*--policy-pack policy/);
    expect(up).toMatch(/command: up\n[\s\S]*policyPacks: policy\n/);
  });
});

describe("secrets and pins", () => {
  test("the hosts' SSH key reaches the deploy job only", () => {
    const users = filesUnder(GITHUB).filter((f) => read(f).includes("secrets.SSH_"));
    expect(users).toEqual(["workflows/deploy-stack.yml"]);
  });

  test("every use of the Pulumi action is v6", () => {
    const uses = filesUnder(GITHUB).flatMap((f) => read(f).match(/pulumi\/actions@\S+/g) ?? []);
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set(["pulumi/actions@v6"]));
  });

  test("the stacks CI previews are the stacks it deploys, and each has its config", () => {
    const previewed = /changed-stacks\.ts ([a-z0-9 -]+) </.exec(read("workflows/pull-request.yml"));
    const deployed = [...read("workflows/deploy.yml").matchAll(/stack: ([a-z0-9-]+)/g)].map(
      (m) => m[1],
    );
    expect(previewed?.[1].split(" ")).toEqual(deployed);
    for (const stack of deployed) {
      expect(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))).toBe(true);
    }
  });
});
