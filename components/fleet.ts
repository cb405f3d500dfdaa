import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../config/model";
import type { ServiceFacts } from "../protocol/policy-facts";
import type { HostBundle } from "./host";
import { Host } from "./host";
import { Service } from "./service";

export interface FleetArgs {
  fleet: Fleet;
  privateKey?: pulumi.Output<string>;
  /** The host command, built, to install on every host. */
  bundle: HostBundle;
  /** What the policy pack reads of each service, by name (components/policy-facts.ts). */
  facts?: ReadonlyMap<string, ServiceFacts>;
}

/** Every host of the stack and every service on them. */
export function deployFleet({ fleet, privateKey, bundle, facts }: FleetArgs) {
  const hosts = new Map<string, Host>();
  for (const host of fleet.hosts) {
    hosts.set(host.name, new Host(host.name, { host, privateKey, bundle }));
  }
  const services = fleet.services.map((service) => {
    const registry = fleet.registries.find((r) => r.server === service.registry);
    const serviceFacts = facts?.get(service.name);
    return new Service(service.name, { service, hosts, registry, facts: serviceFacts });
  });
  return { hosts, services };
}
