// The facts the program gives the policy pack, from config as loaded.
import { rawInput, SHA, specInput, withApp } from "../config/fixtures";
import { loadFleet } from "../config/load";
import type { RawFleetInput } from "../config/model";
import { serviceFacts } from "../protocol/policy-facts";
import { policyFacts } from "./policy-facts";

function factsFor(input: RawFleetInput) {
  const result = loadFleet(input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return policyFacts({
    fleet: result.fleet,
    rawServices: input.services,
    secretKeys: input.secretKeys,
  });
}

describe("policyFacts", () => {
  it("gives each service of the README's example what the policies read, secret env hidden", () => {
    const facts = factsFor(specInput());
    expect(Object.fromEntries(facts)).toEqual({
      app: {
        service: "app",
        revision: SHA,
        http: { healthCheckPath: "/health" },
        hosts: ["app-1", "app-2"],
        containers: 4,
        env: { secret: true },
      },
      worker: {
        service: "worker",
        revision: SHA,
        hosts: ["app-2"],
        containers: 3,
        env: { secret: true },
      },
      cron: {
        service: "cron",
        revision: SHA,
        hosts: ["app-1"],
        containers: 1,
        env: { secret: true },
      },
    });
    for (const f of facts.values()) expect(serviceFacts.parse(f)).toEqual(f);
  });

  it("names the env keys when nothing under conductor:services is secret", () => {
    const facts = factsFor(withApp({ env: { TOKEN: "t", A: "1" } }));
    expect(facts.get("app")?.env).toEqual({ secret: false, keys: ["A", "TOKEN"] });
  });

  it("gives no health check path when the config leaves it to the default", () => {
    const facts = factsFor(withApp({ http: { port: 3000 } }));
    expect(facts.get("app")?.http).toEqual({});
  });

  // A plain password is a config error already (config/checks.ts); the pack checks it again.
  it.each([
    [["conductor:registries"], true],
    [[], false],
  ])("tells whether the registry's password is secret (secret keys %j)", (keys, secret) => {
    const registries = { "registry.example.com": { username: "u", password: "p" } };
    const result = loadFleet(
      rawInput({ registries, secretKeys: new Set(["conductor:registries"]) }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const facts = policyFacts({ fleet: result.fleet, rawServices: {}, secretKeys: new Set(keys) });
    expect(facts.get("app")?.registry).toEqual({
      server: "registry.example.com",
      passwordSecret: secret,
    });
  });
});
