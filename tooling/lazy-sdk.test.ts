// The program starts without the SDK parts a deploy never calls (tooling/lazy-sdk.js):
// safe only while nothing the program runs needs them, and while the stand-ins
// cover every function the SDK's modules export.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./bundles";

const PRELOAD = path.join(__dirname, "lazy-sdk.js");
/**
 * What the stand-ins keep from loading: the serializer's dependencies, OpenTelemetry's SDK,
 * source-map-support (its register.js is where the stand-in itself sits in the module cache).
 */
const HEAVY =
  /node_modules\/(typescript|@npmcli\/arborist|@opentelemetry\/sdk-trace-base|source-map-support)\/(?!register\.js$)/;
/** What the launcher (cmd/run/index.js) requires first, resolved as it does. */
const LAUNCHER_SOURCE_MAPS = `require(require.resolve("source-map-support/register", { paths: [require("path").dirname(require.resolve("@pulumi/pulumi/cmd/run"))] }))`;
const HEAVY_LOADED = `[...new Set(Object.keys(require.cache).filter((f) => ${HEAVY}.test(f)).map((f) => f.match(${HEAVY})[1]))].sort()`;

/** Runs `script` in a Node.js of its own, in the project, and parses the JSON it prints last. */
function runNode(script: string, options: { preload: boolean; env?: NodeJS.ProcessEnv }) {
  const args = [...(options.preload ? ["--require", PRELOAD] : []), "-e", script];
  const out = execFileSync(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  }).toString("utf8");
  return JSON.parse(out.trim().split("\n").pop() ?? "null");
}

/** A stack config the program accepts: one service x 2 on a host it never reaches under mocks. */
const CONFIG = {
  "conductor:app": "lazy",
  "conductor:hosts": JSON.stringify({ h1: { address: "10.255.0.1" } }),
  "conductor:services": JSON.stringify({
    web: {
      image: "conductor-hello",
      revision: "be0c0a1",
      hosts: ["h1"],
      replicas: 2,
      http: { port: 8080, healthCheck: { path: "/health" }, nginx: { listen: 18400 } },
    },
  }),
};

describe("the program's start without the SDK parts a deploy never calls", () => {
  it("is what Pulumi.yaml preloads into the program", () => {
    const project = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
    expect(project).toMatch(
      /^\s+nodeargs: --require \.\/tooling\/warm-up\.js --require \.\/tooling\/lazy-sdk\.js$/m,
    );
  });

  it("stands in for every function each replaced SDK module exports", () => {
    const standIns = runNode(
      `console.log(JSON.stringify(require(${JSON.stringify(PRELOAD)}).STAND_IN_NAMES))`,
      { preload: false },
    ) as Record<string, string[]>;
    expect(Object.keys(standIns)).toHaveLength(4);
    const real = runNode(
      `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(standIns))}.map((id) => {
         const m = require(id);
         return [id, Object.keys(m).filter((k) => typeof m[k] === "function").sort()];
       }))));`,
      { preload: false },
    );
    expect(real).toEqual(standIns);
  });

  it("loads them without the preload (what the stand-ins save)", () => {
    const loaded = runNode(
      `${LAUNCHER_SOURCE_MAPS};
       require("@pulumi/pulumi");
       require("@pulumi/pulumi/cmd/run/tracing");
       console.log(JSON.stringify({ loaded: ${HEAVY_LOADED}, formatter: Error.prepareStackTrace.name }))`,
      { preload: false },
    );
    expect(loaded).toEqual({
      loaded: [
        "@npmcli/arborist",
        "@opentelemetry/sdk-trace-base",
        "source-map-support",
        "typescript",
      ],
      formatter: "prepareStackTrace", // source-map-support's
    });
  });

  it("runs the whole program under mocks, and the launcher's modules, without loading them", () => {
    const result = runNode(
      `// The launcher's modules (cmd/run/run.js), without its main (index.js), which wants an engine.
       const launcher = require.resolve("@pulumi/pulumi/cmd/run");
       const Module = require("module");
       const idle = new Module(launcher); idle.loaded = true; require.cache[launcher] = idle;
       ${LAUNCHER_SOURCE_MAPS};
       require("@pulumi/pulumi/cmd/run/run");
       const pulumi = require("@pulumi/pulumi");
       let registered = 0;
       pulumi.runtime.setMocks({
         newResource: ({ type, name, inputs }) => {
           registered++;
           return { id: name + "-id", state: type === "fleet:index:Container" ? { ...inputs, name, hostPort: 20000 } : inputs };
         },
         call: () => ({}),
       }, "conductor", "dev", true).then(async () => {
         const outputs = await require("./program.js")();
         await new Promise((resolve) => pulumi.all(Object.values(outputs)).apply(resolve));
         await new Promise((resolve) => setTimeout(resolve, 200));
         console.log(JSON.stringify({ registered, loaded: ${HEAVY_LOADED}, formatter: Error.prepareStackTrace.name }));
       });`,
      { preload: true, env: { PULUMI_CONFIG: JSON.stringify(CONFIG) } },
    );
    expect(result.registered).toBeGreaterThanOrEqual(6); // agent, image, 2 containers, nginx, release
    expect(result.loaded).toEqual([]);
    expect(result.formatter).toBe("ErrorPrepareStackTrace"); // Node.js's own
  });

  it("still serializes a function when asked, loading the serializer then", () => {
    const result = runNode(
      `const pulumi = require("@pulumi/pulumi");
       const before = ${HEAVY_LOADED};
       pulumi.runtime.serializeFunction(() => 6 * 7).then((s) =>
         console.log(JSON.stringify({ before, text: s.text, after: ${HEAVY_LOADED} })));`,
      { preload: true },
    );
    expect(result.before).toEqual([]);
    expect(result.text).toContain("6 * 7");
    expect(result.after).toEqual(["typescript"]);
  });

  it("makes the same no-op spans as the SDK until tracing starts, and real ones after", () => {
    const result = runNode(
      `const tracing = require("@pulumi/pulumi/cmd/run/tracing");
       const idle = tracing.newSpan("before");
       const before = { recording: idle.isRecording(), loaded: ${HEAVY_LOADED} };
       idle.end();
       // A Zipkin endpoint nothing listens on: spans are only sent when they end.
       tracing.start("http://127.0.0.1:9/api/v2/spans");
       const span = tracing.newSpan("after");
       console.log(JSON.stringify({ before, after: { recording: span.isRecording(), loaded: ${HEAVY_LOADED} } }));
       process.exit(0);`,
      { preload: true },
    );
    expect(result.before).toEqual({ recording: false, loaded: [] });
    expect(result.after).toEqual({ recording: true, loaded: ["@opentelemetry/sdk-trace-base"] });
  });
});
