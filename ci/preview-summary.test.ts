// Golden files: ci/golden/<case>.json is a real `pulumi preview --json
// --show-sames` of this program (recorded as ci/golden/README.md says), and
// <case>.summary.txt the Markdown the summary must render for it, byte for
// byte. UPDATE_GOLDEN=1 rewrites the .summary.txt files: review their diff.
// Not proven here: that the recordings match what a newer Pulumi CLI prints.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Io, main, previewSummary } from "./preview-summary";

const GOLDEN = path.join(__dirname, "golden");
const read = (name: string) => fs.readFileSync(path.join(GOLDEN, name), "utf8");
const cases = fs
  .readdirSync(GOLDEN)
  .filter((f) => f.endsWith(".json") && !f.endsWith(".no-sames.json"))
  .map((f) => f.replace(/\.json$/, ""));

describe("deploy summary of recorded previews", () => {
  test("there are recordings", () => {
    expect(cases).toEqual(expect.arrayContaining(["revision-secret-replicas", "destructive"]));
  });

  test.each(cases)("%s", (name) => {
    const rendered = previewSummary(read(`${name}.json`));
    const expectedFile = path.join(GOLDEN, `${name}.summary.txt`);
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(expectedFile, rendered);
    expect(rendered).toBe(fs.readFileSync(expectedFile, "utf8"));
  });

  test("a preview without --show-sames is refused: its replica counts would be wrong", () => {
    expect(() => previewSummary(read("revision-secret-replicas.no-sames.json"))).toThrow(
      "this preview leaves out its 7 unchanged resources, so replica counts would be wrong: " +
        "run `pulumi preview --json --show-sames`",
    );
  });
});

describe("preview-summary command", () => {
  function runMain(argv: string[], files: Record<string | number, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      readFile: (p) => {
        if (!(p in files)) throw new Error(`ENOENT: no such file ${p}`);
        return files[p];
      },
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    };
    return { code: main(argv, io), out: out.join(""), err: err.join("") };
  }
  const preview = read("no-changes.json");

  test.each([
    ["a file", ["p.json"], { "p.json": preview }],
    ["stdin", [], { 0: preview }],
    ["stdin as -", ["-"], { 0: preview }],
  ])("reads the preview from %s", (_what, argv, files) => {
    expect(runMain(argv, files)).toEqual({
      code: 0,
      out: "#### Deploy summary: `ci-rec`\n\nNo changes.\n\n<sub>Pulumi: 13 unchanged.</sub>\n",
      err: "",
    });
  });

  test("exits 1 with the reason when the input is not a preview", () => {
    expect(runMain(["p.json"], { "p.json": '{"config": {}}' })).toEqual({
      code: 1,
      out: "",
      err: "preview-summary: cannot summarize this preview: not the output of `pulumi preview --json`: it has no steps\n",
    });
  });

  test("exits 1 when the file cannot be read", () => {
    expect(runMain(["missing.json"])).toMatchObject({
      code: 1,
      err: "preview-summary: failed: ENOENT: no such file missing.json\n",
    });
  });

  test("exits 2 with usage for extra arguments", () => {
    expect(runMain(["a.json", "b.json"])).toMatchObject({ code: 2, out: "" });
  });
});
