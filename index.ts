// conductor: `pulumi up` is the deploy. Read and check the stack config, then
// declare every host and service; Pulumi's create-before-delete order gives
// new containers -> health -> nginx -> old containers stopped.
import * as pulumi from "@pulumi/pulumi";
import { deployFleet } from "./components/fleet";
import { policyFacts } from "./components/policy-facts";
import { formatIssues, loadFleet } from "./config/load";
import { buildHostBundle } from "./tooling/host-bundle";
import { skipPromiseStacks } from "./tooling/promise-stacks";
import { skipSdkDebugLog } from "./tooling/sdk-debug-log";

const NAMESPACE = "conductor";

/**
 * Whether a config key is secret. The SDK keeps isConfigSecret internal (it is
 * exported, not typed); if it ever moves, treat every key as secret.
 */
function isSecretKey(key: string): boolean {
  const internal = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return internal.isConfigSecret ? internal.isConfigSecret(key) : true;
}

/** Every key set in the namespace, without its prefix ("conductor:app" -> "app"). */
function namespaceKeys(): string[] {
  const prefix = `${NAMESPACE}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length).replace(/^config:/, ""));
}

function readFleet() {
  const config = new pulumi.Config(NAMESPACE);
  const keys = ["app", "revision", "hosts", "services", "registries"];
  const input = {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    app: config.get("app"),
    revision: config.get("revision"),
    hosts: config.getObject("hosts"),
    services: config.getObject("services"),
    registries: config.getObject("registries"),
    keys: namespaceKeys(),
    secretKeys: new Set(keys.map((k) => `${NAMESPACE}:${k}`).filter(isSecretKey)),
  };
  const result = loadFleet(input);
  // RunError: the message is the whole story, no stack trace.
  if (!result.ok) throw new pulumi.RunError(formatIssues(result.issues));
  const facts = policyFacts({
    fleet: result.fleet,
    rawServices: input.services,
    secretKeys: input.secretKeys,
  });
  return { fleet: result.fleet, facts };
}

/**
 * The program, called by program.js once it has started the provider (the
 * stack's outputs are what it returns).
 */
function main() {
  // Before the first resource: the SDK's per-promise stack traces and its
  // debug messages cost seconds at 1,000 resources.
  skipPromiseStacks();
  skipSdkDebugLog();
  const { fleet, facts } = readFleet();
  const { services } = deployFleet({
    fleet,
    privateKey: new pulumi.Config(NAMESPACE).getSecret("sshPrivateKey"),
    bundle: buildHostBundle(),
    facts,
  });
  return {
    serviceIds: fleet.services.map((s) => s.id),
    containers: Object.fromEntries(
      fleet.services.map((s, i) => [s.id, services[i].containers.map((c) => c.name)]),
    ),
    /** Where each nginx-fronted service answers on hosts reached as `local`. */
    localUrls: fleet.services
      .filter(
        (s) => s.http?.nginx && s.hosts.some((h) => fleet.hosts.find((x) => x.name === h)?.local),
      )
      .map((s) => {
        const { listen, serverName } = s.http!.nginx!;
        const host = serverName === "_" ? "localhost" : serverName;
        return `http://${host}${listen === 80 ? "" : `:${listen}`}/`;
      }),
  };
}

export = main;
