/**
 * Last step: a draft without problems becomes the Fleet, with every default applied.
 * Only called when parsing and checks found nothing, so a missing part here is a bug.
 */
import { serviceId } from "../protocol/rules";
import type { Draft } from "./parse";
import { registryOf } from "./checks";
import type { CommandCheck, Fleet, Host, Http, Logging, Resources, Service } from "./model";
import { DEFAULTS } from "./schema";
import type { ParsedHost, ParsedService } from "./schema";

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`config: built a fleet without ${what}; check first`);
  return value;
}

export function buildFleet(draft: Draft): Fleet {
  const app = must(draft.app, "an app");
  const stack = must(draft.stack, "a stack");
  const hostNames = must(draft.hostNames, "hosts");
  const hosts = hostNames.map((name) => toHost(name, must(draft.hosts[name], `host ${name}`)));
  const services = draft.services.map((s) => {
    const parsed = must(s.parsed, `service ${s.name}`);
    const revision = must(parsed.revision ?? draft.revision, `a revision for ${s.name}`);
    const base = { name: s.name, id: serviceId(app, s.name, stack), revision };
    return toService(base, parsed, { allHosts: hostNames, envIsSecret: draft.envIsSecret });
  });
  const registries = Object.entries(draft.registries).map(([server, r]) => ({
    server: normalRegistry(server),
    username: r.username,
    password: r.password,
  }));
  return {
    app,
    stack,
    ...(draft.revision !== undefined && { revision: draft.revision }),
    hosts,
    services,
    registries,
  };
}

/** Docker Hub has several names; the one an image resolves to is docker.io. */
const normalRegistry = (server: string) => (server === "index.docker.io" ? "docker.io" : server);

function toHost(name: string, host: ParsedHost): Host {
  return {
    name,
    address: host.address,
    local: host.address === "local",
    user: host.user ?? DEFAULTS.user,
    port: host.port ?? DEFAULTS.sshPort,
  };
}

function toService(
  base: Pick<Service, "name" | "id" | "revision">,
  s: ParsedService,
  fleet: { allHosts: string[]; envIsSecret: boolean },
): Service {
  return {
    ...base,
    image: s.image,
    registry: registryOf(s.image),
    ...(s.command && { command: s.command }),
    hosts: s.hosts ?? fleet.allHosts,
    replicas: s.replicas,
    ...(s.http && { http: toHttp(s.http) }),
    stopTimeoutMs: s.stopTimeout,
    env: s.env ?? {},
    envIsSecret: fleet.envIsSecret,
    ...(s.cron && { cron: { generate: s.cron.generate, allowOverlap: s.cron.allowOverlap } }),
    ...(s.predeploy && {
      predeploy: { command: s.predeploy.command, timeoutMs: s.predeploy.timeout },
    }),
    supervise: s.supervise,
    ...(s.healthCheck && { healthCheck: toCommandCheck(s.healthCheck) }),
    ...(s.volumes && { volumes: s.volumes }),
    ...(s.resources && { resources: toResources(s.resources) }),
    logging: toLogging(s.logging),
    ...(s.user !== undefined && { user: s.user }),
    ...(s.stopSignal !== undefined && { stopSignal: s.stopSignal }),
    ...(s.labels && { labels: s.labels }),
  };
}

function toCommandCheck(check: NonNullable<ParsedService["healthCheck"]>): CommandCheck {
  const { command, timeout, interval, deadline } = check;
  return { command, timeoutMs: timeout, intervalMs: interval, deadlineMs: deadline };
}

function toResources(r: NonNullable<ParsedService["resources"]>): Resources {
  return {
    ...(r.memory !== undefined && { memoryBytes: r.memory }),
    ...(r.cpus !== undefined && { cpus: r.cpus }),
  };
}

/**
 * No logging: the rotating default. Options are the driver's own, so only
 * json-file without options gets the default's; another driver without
 * options gets none (Docker's defaults for it).
 */
function toLogging(logging: ParsedService["logging"]): Logging {
  const driver = logging?.driver ?? DEFAULTS.logging.driver;
  const defaults = driver === DEFAULTS.logging.driver ? DEFAULTS.logging.options : {};
  return { driver, options: { ...(logging?.options ?? defaults) } };
}

function toHttp(http: NonNullable<ParsedService["http"]>): Http {
  const { path, timeout, interval, deadline } = http.healthCheck;
  return {
    port: http.port,
    healthCheck: { path, timeoutMs: timeout, intervalMs: interval, deadlineMs: deadline },
    ...(http.nginx && { nginx: { listen: http.nginx.listen, serverName: http.nginx.serverName } }),
  };
}
