import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../config/model";
import { Host } from "./host";
import { Service } from "./service";

export interface FleetArgs {
  fleet: Fleet;
  privateKey?: pulumi.Output<string>;
  /** sha256 of the host command bundle to install on every host. */
  bundleSha256: string;
}

/** Every host of the stack and every service on them. */
export function deployFleet({ fleet, privateKey, bundleSha256 }: FleetArgs) {
  const hosts = new Map<string, Host>();
  for (const host of fleet.hosts) {
    hosts.set(host.name, new Host(host.name, { host, privateKey, bundleSha256 }));
  }
  const services = fleet.services.map((service) => new Service(service.name, { service, hosts }));
  return { hosts, services };
}
