// The cached bundles (tooling/bundles.js): a stale bundle would deploy old
// code without a word, so every way a source can change must rebuild.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BUNDLES, BundleSpec, PROJECT_ROOT, build, freshBundle, freshSha } from "./bundles";

const SPEC: BundleSpec = { name: "app", entry: "main.ts", target: "node20" };

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-bundles-"));
  write("main.ts", `import { greeting } from "./lib/greeting";\nexport const said = greeting;\n`);
  write("lib/greeting.ts", `export const greeting = "hello";\n`);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(file: string, content: string) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), content);
}

/**
 * Runs the bundle in a Node.js of its own (Jest keeps what it read of a file
 * for the whole test file) and returns what it exports as `said`.
 */
function said(): string {
  const bundle = freshBundle(SPEC, root).path;
  return execFileSync(process.execPath, ["-p", `require(${JSON.stringify(bundle)}).said`])
    .toString("utf8")
    .trim();
}

const builtAt = () => fs.statSync(path.join(root, "dist", "app.js")).mtimeMs;

describe("a cached bundle", () => {
  it("is built on first use and runs the sources", () => {
    expect(freshSha(SPEC, root)).toBeUndefined();
    expect(said()).toBe("hello");
    expect(freshSha(SPEC, root)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is reused while no source changed, even when a file is rewritten with the same content", () => {
    said();
    const first = builtAt();
    write("lib/greeting.ts", `export const greeting = "hello";\n`);
    fs.utimesSync(path.join(root, "lib/greeting.ts"), new Date(), new Date(Date.now() + 60_000));
    expect(freshSha(SPEC, root)).toBeDefined();
    said();
    expect(builtAt()).toBe(first);
  });

  it("is rebuilt when an imported file changes, even with its old timestamp", () => {
    expect(said()).toBe("hello");
    const file = path.join(root, "lib/greeting.ts");
    const { mtime } = fs.statSync(file);
    write("lib/greeting.ts", `export const greeting = "howdy";\n`);
    fs.utimesSync(file, mtime, mtime);
    expect(freshSha(SPEC, root)).toBeUndefined();
    expect(said()).toBe("howdy");
  });

  it("follows a new import: a change to the newly imported file rebuilds too", () => {
    said();
    write("lib/name.ts", `export const name = "world";\n`);
    write(
      "lib/greeting.ts",
      `import { name } from "./name";\nexport const greeting = "hi " + name;\n`,
    );
    expect(said()).toBe("hi world");
    write("lib/name.ts", `export const name = "fleet";\n`);
    expect(said()).toBe("hi fleet");
  });

  it("is rebuilt when a source is gone, and the build says which import failed", () => {
    said();
    write("main.ts", `import { greeting } from "./lib/gone";\nexport const said = greeting;\n`);
    fs.rmSync(path.join(root, "lib/greeting.ts"));
    expect(() => said()).toThrow(/lib\/gone/);
  });

  it("is rebuilt when the bundle itself was altered or truncated", () => {
    said();
    fs.writeFileSync(path.join(root, "dist", "app.js"), "exports.said = 'tampered';\n");
    expect(said()).toBe("hello");
  });

  it("is rebuilt when its manifest is missing or unreadable", () => {
    said();
    fs.writeFileSync(path.join(root, "dist", "app.manifest.json"), "{ half");
    expect(freshSha(SPEC, root)).toBeUndefined();
    expect(said()).toBe("hello");
  });

  it("is rebuilt when it is built another way (another spec under the same name)", () => {
    said();
    expect(freshSha({ ...SPEC, target: "node18" }, root)).toBeUndefined();
  });

  it("refuses sources that find files relative to themselves, naming them", () => {
    write("lib/greeting.ts", `export const greeting = require("path").join(__dirname, "x");\n`);
    expect(() => build(SPEC, root)).toThrow(/lib\/greeting\.ts: uses __dirname/);
  });
});

describe("a bundle with its npm packages built in", () => {
  beforeEach(() => {
    write("node_modules/greeter/index.js", `exports.greeting = "hello";\n`);
    write(
      "node_modules/.package-lock.json",
      `{"packages":{"node_modules/greeter":{"version":"1.0.0"}}}\n`,
    );
    write("main.ts", `export const said = require("greeter").greeting;\n`);
  });
  const inputs = () =>
    Object.keys(
      JSON.parse(fs.readFileSync(path.join(root, "dist", "app.manifest.json"), "utf8")).inputs,
    );

  it("records npm's list of what is installed, not each package file", () => {
    build(SPEC, root);
    expect(inputs()).toEqual(["main.ts", "node_modules/.package-lock.json"]);
  });

  it("is rebuilt when npm installs something else", () => {
    build(SPEC, root);
    expect(freshSha(SPEC, root)).toBeDefined();
    write(
      "node_modules/.package-lock.json",
      `{"packages":{"node_modules/greeter":{"version":"1.0.1"}}}\n`,
    );
    expect(freshSha(SPEC, root)).toBeUndefined();
  });

  it("loads the packages named external at run time, and builds in the others", () => {
    write("node_modules/sdk/index.js", `exports.shared = "from node_modules";\n`);
    write(
      "main.ts",
      `export const said = require("greeter").greeting + " " + require("sdk").shared;\n`,
    );
    const EXTERNAL: BundleSpec = { ...SPEC, external: ["sdk"] };
    build(EXTERNAL, root);
    const code = fs.readFileSync(path.join(root, "dist", "app.js"), "utf8");
    expect(code).toContain(`require("sdk")`);
    expect(code).not.toContain(`require("greeter")`);
    write("node_modules/greeter/index.js", `exports.greeting = "changed";\n`);
    write("node_modules/sdk/index.js", `exports.shared = "read at run time";\n`);
    const bundle = path.join(root, "dist", "app.js");
    expect(
      execFileSync(process.execPath, ["-p", `require(${JSON.stringify(bundle)}).said`])
        .toString("utf8")
        .trim(),
    ).toBe("hello read at run time");
  });

  it("hashes each package file where npm keeps no such list", () => {
    fs.rmSync(path.join(root, "node_modules/.package-lock.json"));
    build(SPEC, root);
    expect(inputs()).toEqual(["node_modules/greeter/index.js", "main.ts"]);
  });
});

describe("the project's bundles", () => {
  it("cover each entry point with every one of our sources it imports", () => {
    const manifest = (name: string) =>
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "dist", `${name}.manifest.json`), "utf8"))
        .inputs as Record<string, string>;
    for (const spec of Object.values(BUNDLES)) freshBundle(spec);
    expect(Object.keys(manifest("program"))).toEqual(
      expect.arrayContaining(["index.ts", "tooling/host-bundle.ts", "config/load.ts"]),
    );
    expect(Object.keys(manifest("provider"))).toEqual(
      expect.arrayContaining(["provider/main.ts", "provider/provider.ts"]),
    );
    expect(Object.keys(manifest("conductor-host"))).toEqual(
      expect.arrayContaining(["host/main.ts"]),
    );
    // The program must share the SDK its launcher loaded: the SDK stays in node_modules.
    const program = fs.readFileSync(freshBundle(BUNDLES.program).path, "utf8");
    expect(program).toContain(`require("@pulumi/pulumi")`);
    expect(program).not.toMatch(/node_modules\/@pulumi\/pulumi\//);
    // zod is built in (npm's record of what is installed stands for it).
    expect(program).not.toContain(`require("zod")`);
    expect(Object.keys(manifest("program"))).toContain("node_modules/.package-lock.json");
  });
});
