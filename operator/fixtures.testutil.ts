// A small fleet for the operator's unit tests: web on h1 and h2, worker on h2.
import type { Fleet, Service } from "../config/model";
import type { ServiceStatus } from "../protocol/requests";

export const REV = { a: "aaaaaaa", b: "bbbbbbb", c: "ccccccc" };

function service(name: string, hosts: string[], overrides: Partial<Service> = {}): Service {
  return {
    name,
    id: `shop_${name}_production`,
    image: "registry.example.com/shop/app",
    registry: "registry.example.com",
    revision: REV.c,
    hosts,
    replicas: 2,
    stopTimeoutMs: 10_000,
    env: {},
    envIsSecret: false,
    supervise: true,
    ...overrides,
  };
}

export function fleet(): Fleet {
  return {
    app: "shop",
    stack: "production",
    revision: REV.c,
    hosts: ["h1", "h2"].map((name) => ({
      name,
      address: `10.0.0.${name[1]}`,
      local: false,
      user: "deploy",
      port: 22,
    })),
    services: [service("web", ["h1", "h2"]), service("worker", ["h2"], { replicas: 1 })],
    registries: [],
  };
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
