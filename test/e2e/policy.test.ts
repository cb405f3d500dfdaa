// The policy pack (policy/) as the CLI runs it: `pulumi preview --policy-pack
// policy` through this toolchain's language host and analyzer entry point. A
// production-like stack that breaks the policies fails its preview with each
// policy's message; the same config on another stack only warns; a compliant
// config passes. Preview only: the hosts refuse every connection (port 1).
// Not proven here: a plain registry password, which the config refuses first
// (its check is unit-tested, policy/checks.test.ts).
import * as path from "node:path";
import { PROJECT_ROOT, TestStack } from "./harness";

const SHA = "9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c";
const PACK = ["--policy-pack", path.join(PROJECT_ROOT, "policy")];

function config(o: { revision: string; replicas: number; healthCheck?: object; env?: object }) {
  return {
    "conductor:app": "pol",
    "conductor:revision": o.revision,
    "conductor:hosts": { "app-1": { address: "127.0.0.1", port: 1, user: "deploy" } },
    "conductor:services": {
      web: {
        image: "acme/app",
        replicas: o.replicas,
        http: { port: 3000, ...(o.healthCheck && { healthCheck: o.healthCheck }) },
        ...(o.env && { env: o.env }),
      },
    },
  };
}

const VIOLATING = config({
  revision: "9f3c9f3",
  replicas: 1,
  env: { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db/app" },
});
const COMPLIANT = config({ revision: SHA, replicas: 2, healthCheck: { path: "/up" } });

const MESSAGES = [
  "service web deploys revision 9f3c9f3, not a full 40-hex git SHA",
  "service web serves http without a health check path of its own",
  "service web serves http from 1 container across its hosts (app-1), fewer than 2",
  "service web: env DATABASE_URL looks like a credential and is a plain value",
];

describe("the policy pack", () => {
  let production: TestStack;
  let dev: TestStack;

  beforeAll(async () => {
    [production, dev] = await Promise.all([
      TestStack.create("prod-e2e"),
      TestStack.create("poldev"),
    ]);
  });

  afterAll(async () => {
    await Promise.all([production?.dispose(), dev?.dispose()]);
  });

  it("fails the preview of a production-like stack that breaks it, with each policy's message", async () => {
    await production.writeConfig(VIOLATING);
    const result = await production.pulumi(["preview", ...PACK]);
    expect(result.code).not.toBe(0);
    for (const message of MESSAGES) expect(result.output).toContain(message);
    expect(result.output).toMatch(/\[mandatory\]\s+revision-full-sha/);
    expect(result.output).not.toContain("hunter2");
  });

  it("only warns on a stack not named like production", async () => {
    await dev.writeConfig(VIOLATING);
    const result = await dev.pulumi(["preview", ...PACK]);
    expect(result.output).toMatch(/\[advisory\]\s+revision-full-sha/);
    for (const message of MESSAGES) expect(result.output).toContain(message);
    expect(result.code).toBe(0);
  });

  it("passes a compliant production-like stack", async () => {
    await production.writeConfig(COMPLIANT);
    const result = await production.pulumi(["preview", ...PACK]);
    expect(result.output).not.toMatch(/\[(mandatory|advisory)\]/);
    expect(result.output).toContain("conductor@v0.1.0");
    expect(result.code).toBe(0);
  });
});
