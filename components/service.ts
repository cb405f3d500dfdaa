import * as pulumi from "@pulumi/pulumi";
import type { Registry, Service as ServiceConfig } from "../config/model";
import { childNames, COMPONENT_TYPES } from "../protocol/names";
import { POLICY_FACTS_OUTPUT, type ServiceFacts } from "../protocol/policy-facts";
import type { z } from "zod";
import type { runtimeShape } from "../protocol/requests";
import type { Host } from "./host";
import { renderNginxSite } from "./nginx-config";
import { Container, CronFile, Image, NginxSite, Predeploy, Release } from "./resources";

export interface ServiceArgs {
  service: ServiceConfig;
  hosts: ReadonlyMap<string, Host>;
  /** The credentials of the registry of the service's image, if conductor:registries has them. */
  registry?: Registry;
  /** What the policy pack reads of the service (policy/), registered as its output. */
  facts?: ServiceFacts;
}

/**
 * What the service's containers and its one-offs run with (the protocol's
 * runtimeShape): every key, so one the protocol adds fails to compile here.
 */
function runtimeOf(service: ServiceConfig): EveryRuntimeField {
  const { volumes, resources, user, stopSignal, labels } = service;
  return { volumes, resources, user, stopSignal, labels };
}

/** Each key of runtimeShape present (its value may be undefined). */
type EveryRuntimeField = {
  [K in keyof typeof runtimeShape]-?: z.infer<(typeof runtimeShape)[K]>;
};

/**
 * A service on its hosts: `replicas` containers per host; for http services
 * with nginx, a site whose upstream lists that host's containers; and the
 * release, which stops the service's other containers.
 *
 * Order, all by dependencies (README: "What a deploy does"): the image is on
 * every host of the service before any of its new containers starts; the
 * predeploy command, if any, runs on the first host once the image is there,
 * and before any of the service's other resources changes; every new
 * container of the service, on every host, is healthy before any host's nginx changes (a host
 * that fails leaves the others serving the old release too); then the cron
 * file; then the release, which stops the old containers; Pulumi's deletes of
 * replaced containers come after everything else.
 */
export class Service extends pulumi.ComponentResource {
  readonly containers: Container[] = [];
  /** What every other resource of the service waits for: the image on each host (the cron file and the release run it too) and the predeploy. */
  private before: (Image | Predeploy)[] = [];
  /** The service's env, a secret Output when conductor:services is secret. */
  private readonly env: pulumi.Input<Record<string, string>>;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.service, name, {}, opts);
    const { service } = args;
    this.env = service.envIsSecret ? pulumi.secret(service.env) : service.env;
    const hosts = service.hosts.map((hostName) => {
      const host = args.hosts.get(hostName);
      if (!host) throw new pulumi.ResourceError(`unknown host ${hostName}`, this);
      return { hostName, host };
    });
    const images = hosts.map(({ hostName, host }) =>
      this.imageOn(host, hostName, service, args.registry),
    );
    const first = hosts[0];
    const predeploy =
      service.predeploy && first && this.predeployOn(first.host, service, images[0]);
    this.before = [...images, ...(predeploy ? [predeploy] : [])];
    const onHost = hosts.map(({ hostName, host }) => ({
      hostName,
      host,
      containers: this.containersOn(host, hostName, service),
    }));
    this.containers = onHost.flatMap((h) => h.containers);
    for (const { hostName, host, containers } of onHost) {
      const site = service.http?.nginx
        ? this.siteOn(host, hostName, service, containers)
        : undefined;
      const cron = service.cron ? this.cronOn(host, hostName, service, site) : undefined;
      this.releaseOn(host, hostName, service, containers, [site, cron]);
    }
    this.registerOutputs(args.facts ? { [POLICY_FACTS_OUTPUT]: args.facts } : {});
  }

  private imageOn(host: Host, hostName: string, service: ServiceConfig, registry?: Registry) {
    const auth = registry && { username: registry.username, password: registry.password };
    return new Image(
      childNames.image(service.name, hostName),
      {
        connection: host.connection,
        serviceId: service.id,
        image: service.image,
        revision: service.revision,
        registry: service.registry,
        ...(auth && { auth: pulumi.secret(auth) }),
      },
      { parent: this, dependsOn: [host.agent] },
    );
  }

  /** On the first host, after its image: a failure stops the service's deploy before anything else of it. */
  private predeployOn(host: Host, service: ServiceConfig, image: Image): Predeploy {
    return new Predeploy(
      childNames.predeploy(service.name),
      {
        connection: host.connection,
        serviceId: service.id,
        image: service.image,
        revision: service.revision,
        env: this.env,
        command: service.predeploy!.command,
        timeoutMs: service.predeploy!.timeoutMs,
        ...runtimeOf(service),
      },
      { parent: this, dependsOn: [host.agent, image] },
    );
  }

  private containersOn(host: Host, hostName: string, service: ServiceConfig): Container[] {
    const env = this.env;
    return Array.from(
      { length: service.replicas },
      (_, slot) =>
        new Container(
          childNames.container(service.name, hostName, slot),
          {
            connection: host.connection,
            serviceId: service.id,
            slot,
            image: service.image,
            revision: service.revision,
            command: service.command,
            env,
            http: service.http && {
              port: service.http.port,
              healthCheck: service.http.healthCheck,
            },
            healthCheck: service.healthCheck,
            stopTimeoutMs: service.stopTimeoutMs,
            ...runtimeOf(service),
            logging: service.logging,
          },
          { parent: this, dependsOn: [host.agent, ...this.before] },
        ),
    );
  }

  private siteOn(
    host: Host,
    hostName: string,
    service: ServiceConfig,
    containers: Container[],
  ): NginxSite {
    const nginx = service.http!.nginx!;
    const config = pulumi.all(containers.map((c) => c.hostPort)).apply((ports) =>
      renderNginxSite({
        serviceId: service.id,
        listen: nginx.listen,
        serverName: nginx.serverName,
        ports: ports.filter((p): p is number => typeof p === "number"),
      }),
    );
    return new NginxSite(
      childNames.nginxSite(service.name, hostName),
      { connection: host.connection, serviceId: service.id, config },
      { parent: this, dependsOn: [host.agent, ...this.containers] },
    );
  }

  private cronOn(host: Host, hostName: string, service: ServiceConfig, site?: NginxSite): CronFile {
    return new CronFile(
      childNames.cronFile(service.name, hostName),
      {
        connection: host.connection,
        serviceId: service.id,
        image: service.image,
        revision: service.revision,
        env: this.env,
        generate: service.cron!.generate,
        allowOverlap: service.cron!.allowOverlap,
      },
      {
        parent: this,
        // The images too: a service with no containers (cron only) has nothing else to wait for.
        dependsOn: [host.agent, ...this.before, ...this.containers, ...(site ? [site] : [])],
      },
    );
  }

  private releaseOn(
    host: Host,
    hostName: string,
    service: ServiceConfig,
    containers: Container[],
    before: (NginxSite | CronFile | undefined)[],
  ): Release {
    return new Release(
      childNames.release(service.name, hostName),
      {
        connection: host.connection,
        serviceId: service.id,
        image: service.image,
        revision: service.revision,
        command: service.command,
        env: this.env,
        containers: containers.map((c) => c.name),
        supervise: service.supervise,
        ...runtimeOf(service),
      },
      {
        parent: this,
        dependsOn: [
          host.agent,
          ...this.before,
          ...this.containers,
          ...before.filter((r) => r !== undefined),
        ],
      },
    );
  }
}
