import * as pulumi from "@pulumi/pulumi";
import type { Host as HostConfig } from "../config/model";
import type { Connection } from "../protocol/connection";
import { COMPONENT_TYPES } from "../protocol/names";
import { Agent } from "./resources";

export interface HostArgs {
  host: HostConfig;
  /** The SSH private key (conductor:sshPrivateKey); without it, the ssh-agent is used. */
  privateKey?: pulumi.Output<string>;
  bundle: HostBundle;
}

/** The host command as the program built it: a file on this machine, and its sha256. */
export interface HostBundle {
  path: string;
  sha256: string;
}

/** A machine of the fleet: how to reach it, and the `conductor` command installed there. */
export class Host extends pulumi.ComponentResource {
  readonly connection: pulumi.Output<Connection>;
  readonly agent: Agent;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.host, name, {}, opts);
    this.connection = hostConnection(args.host, args.host.local ? undefined : args.privateKey);
    this.agent = new Agent(
      name,
      {
        connection: this.connection,
        bundlePath: args.bundle.path,
        bundleSha256: args.bundle.sha256,
      },
      { parent: this },
    );
    this.registerOutputs({ connection: this.connection });
  }
}

/** Plain when there is no key, so preview shows address changes; secret when it carries a key. */
export function hostConnection(
  host: HostConfig,
  privateKey?: pulumi.Output<string>,
): pulumi.Output<Connection> {
  const base: Connection = {
    host: host.name,
    address: host.address,
    local: host.local,
    user: host.user,
    port: host.port,
  };
  if (!privateKey) return pulumi.output(base);
  return pulumi.secret(privateKey.apply((key) => ({ ...base, privateKey: key })));
}
