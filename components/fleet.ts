import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../config/model";
import type { HostBundle } from "./host";
import { Host } from "./host";
import { Service } from "./service";

export interface FleetArgs {
  fleet: Fleet;
  privateKey?: pulumi.Output<string>;
  /** The host command, built, to install on every host. */
  bundle: HostBundle;
}

/** Every host of the stack and every service on them. */
export function deployFleet({ fleet, privateKey, bundle }: FleetArgs) {
  const hosts = new Map<string, Host>();
  for (const host of fleet.hosts) {
    hosts.set(host.name, new Host(host.name, { host, privateKey, bundle }));
  }
  const services = fleet.services.map((service) => {
    const registry = fleet.registries.find((r) => r.server === service.registry);
    return new Service(service.name, { service, hosts, registry });
  });
  return { hosts, services };
}
