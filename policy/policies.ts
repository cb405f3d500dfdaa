// The pack's policies for @pulumi/policy: the checks of checks.ts as stack
// policies over the services' facts, each mandatory on production-like stacks
// and advisory elsewhere (stack-kind.ts). An operator overrides a level or a
// setting per policy with --policy-pack-config (README, "The policy pack").
// Stack policies, because the facts are the Service components' outputs,
// which only AnalyzeStack sees (Analyze gets a component's inputs: none).
import type {
  PolicyConfigSchema,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  type Check,
  type CheckConfig,
  DEFAULT_CONFIG,
  fullRevision,
  httpHealthCheckPath,
  httpMinContainers,
  plainCredentials,
  registryPasswordSecret,
} from "./checks";
import { readFacts } from "./facts";
import { StackKind } from "./stack-kind";

interface CheckPolicy {
  name: string;
  description: string;
  check: Check;
  configSchema?: PolicyConfigSchema;
}

const CHECKS: CheckPolicy[] = [
  {
    name: "revision-full-sha",
    description: "Every service deploys a full 40-hex git SHA.",
    check: fullRevision,
  },
  {
    name: "http-health-check-path",
    description: "Every http service sets its own health check path.",
    check: httpHealthCheckPath,
  },
  {
    name: "http-min-containers",
    description: "Every http service runs at least minContainers containers across its hosts.",
    check: httpMinContainers,
    configSchema: {
      properties: {
        minContainers: { type: "integer", minimum: 1, default: DEFAULT_CONFIG.minContainers },
      },
    },
  },
  {
    name: "env-credentials-secret",
    description: "No env key that looks like a credential holds a plain value.",
    check: plainCredentials,
    configSchema: {
      properties: {
        credentialKeys: {
          type: "array",
          items: { type: "string" },
          default: DEFAULT_CONFIG.credentialKeys,
        },
      },
    },
  },
  {
    name: "registry-password-secret",
    description: "Registry passwords are secret.",
    check: registryPasswordSecret,
  },
];

export function conductorPolicies(kind = new StackKind()) {
  const facts: StackValidationPolicy = {
    name: "service-facts",
    description: "The policy pack can read what the program says of each service.",
    get enforcementLevel() {
      return kind.level();
    },
    validateStack: (args, report) => {
      for (const u of readFacts(args.resources).unreadable) report(u.message, u.urn);
    },
  };
  return [facts, ...CHECKS.map((c) => checkPolicy(c, kind))];
}

function checkPolicy(
  { name, description, check, configSchema }: CheckPolicy,
  kind: StackKind,
): StackValidationPolicy {
  return {
    name,
    description,
    get enforcementLevel() {
      return kind.level();
    },
    ...(configSchema && { configSchema }),
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const config = { ...DEFAULT_CONFIG, ...args.getConfig<Partial<CheckConfig>>() };
      for (const v of check(readFacts(args.resources).services, config)) report(v.message, v.urn);
    },
  };
}
