// The program starts without the SDK's closure serializer (tooling/lazy-closure.js):
// safe only while nothing the program runs needs it, and while the stand-ins
// forward every function the SDK's modules export.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./bundles";

const PRELOAD = path.join(__dirname, "lazy-closure.js");
const SERIALIZER_DEPENDENCIES = /node_modules\/(typescript|@npmcli\/arborist)\//;

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

const LOADED_SERIALIZER_DEPENDENCIES = `Object.keys(require.cache).filter((f) => ${SERIALIZER_DEPENDENCIES}.test(f)).length`;

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

describe("the program's start without the closure serializer", () => {
  it("is what Pulumi.yaml preloads into the program", () => {
    const project = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
    expect(project).toMatch(/^\s+nodeargs: --require \.\/tooling\/lazy-closure\.js$/m);
  });

  it("stands in for every name the SDK's closure modules export, all functions", () => {
    const LAZY = runNode(`console.log(JSON.stringify(require(${JSON.stringify(PRELOAD)}).LAZY))`, {
      preload: false,
    }) as Record<string, string[]>;
    const exported = runNode(
      `const ids = ${JSON.stringify(Object.keys(LAZY))};
       console.log(JSON.stringify(Object.fromEntries(ids.map((id) => {
         const m = require(id);
         return [id, Object.keys(m).filter((k) => typeof m[k] === "function").sort()];
       }))));`,
      { preload: false },
    );
    const standIns = Object.fromEntries(Object.entries(LAZY).map(([id, n]) => [id, [...n].sort()]));
    expect(exported).toEqual(standIns);
  });

  it("runs the whole program under mocks without loading TypeScript or @npmcli/arborist", () => {
    const result = runNode(
      `const pulumi = require("@pulumi/pulumi");
       let registered = 0;
       pulumi.runtime.setMocks({
         newResource: ({ type, name, inputs }) => {
           registered++;
           return { id: name + "-id", state: type === "fleet:index:Container" ? { ...inputs, name, hostPort: 20000 } : inputs };
         },
         call: () => ({}),
       }, "conductor", "dev", true).then(async () => {
         const program = require("./program.js");
         await new Promise((resolve) => pulumi.all(Object.values(program)).apply(resolve));
         await new Promise((resolve) => setTimeout(resolve, 200));
         console.log(JSON.stringify({ registered, loaded: ${LOADED_SERIALIZER_DEPENDENCIES} }));
       });`,
      { preload: true, env: { PULUMI_CONFIG: JSON.stringify(CONFIG) } },
    );
    expect(result.registered).toBeGreaterThanOrEqual(6); // agent, image, 2 containers, nginx, release
    expect(result.loaded).toBe(0);
  });

  it("still serializes a function when asked, loading the serializer then", () => {
    const result = runNode(
      `const pulumi = require("@pulumi/pulumi");
       const before = ${LOADED_SERIALIZER_DEPENDENCIES};
       pulumi.runtime.serializeFunction(() => 6 * 7).then((s) =>
         console.log(JSON.stringify({ before, text: s.text, after: ${LOADED_SERIALIZER_DEPENDENCIES} })));`,
      { preload: true },
    );
    expect(result.before).toBe(0);
    expect(result.text).toContain("6 * 7");
    expect(result.after).toBeGreaterThan(0);
  });
});
