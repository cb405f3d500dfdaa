// The pack's policies as @pulumi/policy runs them: their levels follow the
// stack, and each stack policy reports on the Service components' facts. Not
// proven here: that the engine and @pulumi/policy call them so (test/e2e/policy.test.ts).
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { conductorPolicies } from "./policies";
import { StackKind } from "./stack-kind";

const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const urn = (name: string) => `urn:pulumi:dev::conductor::conductor:index:Service::${name}`;

function service(name: string, policy: unknown) {
  return { type: "conductor:index:Service", urn: urn(name), name, props: { policy } };
}

const facts = {
  service: "web",
  revision: "279d903",
  http: { healthCheckPath: "/up" },
  hosts: ["box"],
  containers: 2,
  env: { secret: false, keys: ["API_TOKEN"] },
};

function run(policy: StackValidationPolicy, resources: unknown[], config: object = {}) {
  const reported: [string, string | undefined][] = [];
  const report: ReportViolation = (message, u) => reported.push([message, u]);
  const args = { resources, getConfig: () => config } as unknown as StackValidationArgs;
  void policy.validateStack(args, report);
  return reported;
}

describe("conductorPolicies", () => {
  const kind = new StackKind();
  const policies = conductorPolicies(kind) as StackValidationPolicy[];
  const byName = (name: string) => policies.find((p) => p.name === name)!;

  it("has one policy per check and one for unreadable facts", () => {
    expect(policies.map((p) => p.name)).toEqual([
      "service-facts",
      "revision-full-sha",
      "http-health-check-path",
      "http-min-containers",
      "env-credentials-secret",
      "registry-password-secret",
    ]);
  });

  it("makes every policy mandatory on a production stack and advisory elsewhere", () => {
    kind.stack = "production";
    expect(new Set(policies.map((p) => p.enforcementLevel))).toEqual(new Set(["mandatory"]));
    kind.stack = "staging";
    expect(new Set(policies.map((p) => p.enforcementLevel))).toEqual(new Set(["advisory"]));
  });

  it("reports each check's violations on the service", () => {
    const resources = [service("web", facts), { type: "fleet:index:Agent", urn: "x", props: {} }];
    expect(run(byName("revision-full-sha"), resources)).toEqual([
      [expect.stringContaining("deploys revision 279d903"), urn("web")],
    ]);
    expect(run(byName("env-credentials-secret"), resources)).toEqual([
      [expect.stringContaining("env API_TOKEN looks like a credential"), urn("web")],
    ]);
    expect(run(byName("http-min-containers"), resources)).toEqual([]);
  });

  it("passes the policy's config to its check", () => {
    const resources = [service("web", { ...facts, revision: SHA })];
    expect(run(byName("http-min-containers"), resources, { minContainers: 3 })).toHaveLength(1);
  });

  it("says which services' facts it cannot read", () => {
    expect(run(byName("service-facts"), [service("old", undefined)])).toEqual([
      [
        'service old has no readable "policy" output: the program and the policy pack are of different versions',
        urn("old"),
      ],
    ]);
  });
});
