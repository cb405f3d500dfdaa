import * as pulumi from "@pulumi/pulumi";
import type { Service as ServiceConfig } from "../config/model";
import type { Host } from "./host";
import { renderNginxSite } from "./nginx-config";
import { Container, NginxSite } from "./resources";

export interface ServiceArgs {
  service: ServiceConfig;
  hosts: ReadonlyMap<string, Host>;
}

/**
 * A service on its hosts: `replicas` containers per host and, for http
 * services with nginx, a site whose upstream lists those containers' ports.
 * The site reads the containers' outputs, so it is written only once they are
 * all healthy; old containers go last, as Pulumi deletes after everything else.
 */
export class Service extends pulumi.ComponentResource {
  readonly containers: Container[] = [];

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("conductor:index:Service", name, {}, opts);
    const { service } = args;
    for (const hostName of service.hosts) {
      const host = args.hosts.get(hostName);
      if (!host) throw new pulumi.ResourceError(`unknown host ${hostName}`, this);
      const containers = this.containersOn(host, hostName, service);
      this.containers.push(...containers);
      if (service.http?.nginx) this.siteOn(host, hostName, service, containers);
    }
    this.registerOutputs({});
  }

  private containersOn(host: Host, hostName: string, service: ServiceConfig): Container[] {
    const env = service.envIsSecret ? pulumi.secret(service.env) : service.env;
    return Array.from(
      { length: service.replicas },
      (_, slot) =>
        new Container(
          `${service.name}-${hostName}-${slot}`,
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
            stopTimeoutMs: service.stopTimeoutMs,
          },
          { parent: this, dependsOn: [host.agent] },
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
      `${service.name}-${hostName}-nginx`,
      { connection: host.connection, serviceId: service.id, config },
      { parent: this, dependsOn: [host.agent] },
    );
  }
}
