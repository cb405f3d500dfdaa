import * as pulumi from "@pulumi/pulumi";
import type { Host as HostConfig } from "../config/model";
import type { Connection } from "../provider/transport";
import { Agent } from "./resources";

export interface HostArgs {
  host: HostConfig;
  /** The SSH private key (conductor:sshPrivateKey); without it, the ssh-agent is used. */
  privateKey?: pulumi.Output<string>;
  bundleSha256: string;
}

/** A machine of the fleet: how to reach it, and the `conductor` command installed there. */
export class Host extends pulumi.ComponentResource {
  readonly connection: pulumi.Output<Connection>;
  readonly agent: Agent;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("conductor:index:Host", name, {}, opts);
    this.connection = hostConnection(args.host, args.host.local ? undefined : args.privateKey);
    this.agent = new Agent(
      name,
      { connection: this.connection, bundleSha256: args.bundleSha256 },
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
