// A small fleet for the operator's unit tests: web on h1 and h2, worker on h2.
import { loadFleet } from "../config/load";
import type { Fleet } from "../config/model";
import type { ServiceStatus } from "../protocol/requests";

export const REV = { a: "aaaaaaa", b: "bbbbbbb", c: "ccccccc" };

/** Through the config loader, so that defaults follow the model. */
export function fleet(): Fleet {
  const app = { image: "registry.example.com/shop/app", hosts: ["h1", "h2"], replicas: 2 };
  const result = loadFleet({
    project: "conductor",
    stack: "production",
    app: "shop",
    revision: REV.c,
    hosts: {
      h1: { address: "10.0.0.1", user: "deploy" },
      h2: { address: "10.0.0.2", user: "deploy" },
    },
    services: { web: app, worker: { ...app, hosts: ["h2"], replicas: 1 } },
    secretKeys: new Set(),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.fleet;
}

/** A service's status on a host, all containers running and healthy unless overridden. */
export function serviceStatus(name: string, overrides: Partial<ServiceStatus> = {}): ServiceStatus {
  const desired = overrides.desired ?? 2;
  return {
    id: `shop_${name}_production`,
    revision: REV.c,
    supervision: "active",
    desired,
    running: desired,
    healthy: desired,
    containers: Array.from({ length: desired }, (_, i) => ({
      name: `shop_${name}_production-${i}-0123456789`,
      state: "running",
      healthy: true,
      restarts: 0,
    })),
    problems: [],
    ...overrides,
  };
}
