// The layering rule of eslint.config.mjs (docs/architecture.md), checked on
// code it must refuse and code it must let through, so that a change to the
// config that stops it from biting fails here.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

// ESLint loads its (ESM) config with a dynamic import, which jest's sandbox
// refuses: lint every probe in one child process instead.
const LINT_PROBES = `
const { ESLint } = require("eslint");
const probes = JSON.parse(require("fs").readFileSync(0, "utf8"));
const eslint = new ESLint({ cwd: process.cwd() });
Promise.all(probes.map(async ([file, source]) => {
  const [result] = await eslint.lintText(source, { filePath: require("path").resolve(file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
})).then((out) => process.stdout.write(JSON.stringify(out)));
`;

function lintAll(probes: [string, string][]): string[][] {
  const input = JSON.stringify(probes.map(([file, source]) => [file, `${source}\nexport {};\n`]));
  const out = execFileSync(process.execPath, ["-e", LINT_PROBES], { cwd: ROOT, input });
  return JSON.parse(out.toString("utf8")) as string[][];
}

const REFUSED: [string, string][] = [
  ["host/probe.ts", `import { runOnHost } from "../provider/transport";`],
  ["host/supervise/probe.ts", `import type { Fleet } from "../../config/model";`],
  ["host/probe.ts", `import { Service } from "../components/service";`],
  ["host/probe.ts", `import { buildHostBundle } from "../tooling/host-bundle";`],
  ["provider/resources/probe.ts", `import { containerUp } from "../../host/container";`],
  ["provider/probe.ts", `import { loadFleet } from "../config/load";`],
  ["protocol/probe.ts", `import { loadFleet } from "../config/load";`],
  ["config/probe.ts", `import { Service } from "../components/service";`],
  ["components/probe.ts", `import { FleetProvider } from "../provider/provider";`],
  ["ci/summary/probe.ts", `import { Service } from "../../components/service";`],
  ["cli/probe.ts", `import { REVISION } from "../protocol/rules";`],
  ["policy/probe.ts", `import { loadFleet } from "../config/load";`],
  ["policy/probe.ts", `import { Service } from "../components/service";`],
];

const ALLOWED: [string, string][] = [
  ["host/probe.ts", `import { REVISION } from "../protocol/rules";`],
  ["host/supervise/probe.ts", `import { checkRequest } from "../../protocol/requests";`],
  ["provider/probe.ts", `import type { Connection } from "../protocol/connection";`],
  ["components/probe.ts", `import type { Fleet } from "../config/model";`],
  ["operator/probe.ts", `import { hostCommand } from "../provider/transport";`],
  ["index-probe.ts", `import { deployFleet } from "./components/fleet";`],
  ["policy/probe.ts", `import { serviceFacts } from "../protocol/policy-facts";`],
];

describe("the layering rule", () => {
  let results: string[][];
  beforeAll(() => {
    results = lintAll([...REFUSED, ...ALLOWED]);
  });

  it.each(REFUSED.map((probe, i) => [...probe, i] as const))(
    "refuses in %s: %s",
    (_file, _source, i) => {
      expect(results[i]).toHaveLength(1);
    },
  );

  it.each(ALLOWED.map((probe, i) => [...probe, REFUSED.length + i] as const))(
    "allows in %s: %s",
    (_file, _source, i) => {
      expect(results[i]).toEqual([]);
    },
  );
});
