// The custom resources of the `fleet` provider (provider/): what the deploy
// creates on a host. Each registers its inputs; outputs come back from the host.
import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_TYPES } from "../protocol/names";
import type { ContainerSpec, PredeployRequest } from "../protocol/requests";
import type { Connection } from "../protocol/connection";

export interface AgentArgs {
  connection: pulumi.Input<Connection>;
  /** The built host command on this machine; its content is what counts (bundleSha256). */
  bundlePath: string;
  bundleSha256: pulumi.Input<string>;
}

/** The `conductor` command installed on a host. */
export class Agent extends pulumi.CustomResource {
  constructor(name: string, args: AgentArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.agent, name, args, opts);
  }
}

export interface ImageArgs {
  connection: pulumi.Input<Connection>;
  serviceId: string;
  image: string;
  revision: string;
  /** The server the image is pulled from, as Docker decides it. */
  registry: string;
  /** Its credentials (conductor:registries), secret. */
  auth?: pulumi.Input<{ username: string; password: string }>;
}

/** The image of a service's revision on a host, pulled before any new container starts. */
export class Image extends pulumi.CustomResource {
  constructor(name: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.image, name, args, opts);
  }
}

/**
 * What the Container resource registers: the host's connection and the
 * protocol's container spec, so a field added to the spec
 * (protocol/requests.ts) is a compile error here until the deploy passes it.
 * The env may be secret, hence an Input.
 */
export type ContainerArgs = Omit<ContainerSpec, "env"> & {
  connection: pulumi.Input<Connection>;
  env: pulumi.Input<ContainerSpec["env"]>;
};

/** One container of a service on a host, started and found healthy before it counts as created. */
export class Container extends pulumi.CustomResource {
  /** The container's name on the host. */
  declare readonly name: pulumi.Output<string>;
  /** Its port on 127.0.0.1 (http services only). */
  declare readonly hostPort: pulumi.Output<number | null>;

  constructor(name: string, args: ContainerArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.container, name, { ...args, name: undefined, hostPort: undefined }, opts);
  }
}

export interface NginxSiteArgs {
  connection: pulumi.Input<Connection>;
  serviceId: string;
  config: pulumi.Input<string>;
}

/** /etc/nginx/conf.d/conductor-<id>.conf on a host, checked and reloaded. */
export class NginxSite extends pulumi.CustomResource {
  constructor(name: string, args: NginxSiteArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.nginxSite, name, args, opts);
  }
}

export interface ReleaseArgs {
  connection: pulumi.Input<Connection>;
  serviceId: string;
  image: string;
  revision: string;
  command?: string[];
  env: pulumi.Input<Record<string, string>>;
  containers: pulumi.Input<pulumi.Input<string>[]>;
  supervise: boolean;
}

/** The containers of a service's current release on a host; the rest of the service's containers are stopped. */
export class Release extends pulumi.CustomResource {
  constructor(name: string, args: ReleaseArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.release, name, args, opts);
  }
}

export interface CronFileArgs {
  connection: pulumi.Input<Connection>;
  serviceId: string;
  image: string;
  revision: string;
  env: pulumi.Input<Record<string, string>>;
  generate: string[];
  allowOverlap: boolean;
}

/** /etc/cron.d/conductor-<id>: the app's generate-cron output, each job wrapped to run in the deployed revision. */
export class CronFile extends pulumi.CustomResource {
  /** How many jobs the file holds. */
  declare readonly jobs: pulumi.Output<number>;

  constructor(name: string, args: CronFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.cronFile, name, { ...args, jobs: undefined }, opts);
  }
}

/** What the Predeploy resource registers: the protocol's request, env possibly secret. */
export type PredeployArgs = Omit<PredeployRequest, "env"> & {
  connection: pulumi.Input<Connection>;
  env: pulumi.Input<PredeployRequest["env"]>;
};

/**
 * The service's predeploy command, run on one host when the revision changes,
 * before any new container of the service starts. Pulumi records it only once
 * it succeeded, so an `up` killed while it ran runs it again.
 */
export class Predeploy extends pulumi.CustomResource {
  constructor(name: string, args: PredeployArgs, opts?: pulumi.CustomResourceOptions) {
    super(RESOURCE_TYPES.predeploy, name, args, opts);
  }
}
