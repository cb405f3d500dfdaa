// The facts the policy pack reads (protocol/policy-facts.ts), from the fleet
// and the one thing the fleet no longer holds: which service's config sets its
// health check path, before the default (/health) filled it in.
import type { Fleet, Registry, Service } from "../config/model";
import type { ServiceFacts } from "../protocol/policy-facts";

export interface FactsInput {
  fleet: Fleet;
  /** conductor:services as written in the stack config. */
  rawServices: unknown;
  /** Full config keys that are secret, e.g. "conductor:registries". */
  secretKeys: ReadonlySet<string>;
}

/** Each service's facts, by service name. */
export function policyFacts({ fleet, rawServices, secretKeys }: FactsInput) {
  const facts = new Map<string, ServiceFacts>();
  for (const service of fleet.services) {
    const registry = fleet.registries.find((r) => r.server === service.registry);
    const path = declaredHealthCheckPath(rawServices, service.name);
    facts.set(service.name, factsOf(service, registry, path, secretKeys));
  }
  return facts;
}

function factsOf(
  service: Service,
  registry: Registry | undefined,
  healthCheckPath: string | undefined,
  secretKeys: ReadonlySet<string>,
): ServiceFacts {
  return {
    service: service.name,
    revision: service.revision,
    ...(service.http && { http: healthCheckPath ? { healthCheckPath } : {} }),
    hosts: [...service.hosts],
    containers: service.replicas * service.hosts.length,
    env: service.envIsSecret
      ? { secret: true }
      : { secret: false, keys: Object.keys(service.env).sort() },
    ...(registry && {
      registry: {
        server: registry.server,
        passwordSecret: secretKeys.has("conductor:registries"),
      },
    }),
  };
}

/** services.<name>.http.healthCheck.path as written, if it is a string. */
function declaredHealthCheckPath(rawServices: unknown, name: string): string | undefined {
  const path = dig(rawServices, [name, "http", "healthCheck", "path"]);
  return typeof path === "string" ? path : undefined;
}

function dig(value: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}
