// The names the Pulumi program gives what it declares: type tokens and child
// names. The provider dispatches on the tokens, and the CI deploy summary reads
// both back from a preview, so they live here once.

export const COMPONENT_TYPES = {
  host: "conductor:index:Host",
  service: "conductor:index:Service",
} as const;

/** The custom resources of the `fleet` provider. */
export const RESOURCE_TYPES = {
  agent: "fleet:index:Agent",
  container: "fleet:index:Container",
  cronFile: "fleet:index:CronFile",
  image: "fleet:index:Image",
  nginxSite: "fleet:index:NginxSite",
  predeploy: "fleet:index:Predeploy",
  release: "fleet:index:Release",
} as const;

export type ResourceType = (typeof RESOURCE_TYPES)[keyof typeof RESOURCE_TYPES];

/**
 * The provider's one function: it does nothing. program.js calls it first
 * thing, so the engine starts the provider (a Node.js process, ~0.3 s) while
 * the program loads and works, not after its first resource (issue 11;
 * tooling/warm-up.js).
 */
export const WARM_UP_FUNCTION = "fleet:index:warmUp";

/**
 * A service's children are named `<service>-<host>-<part>`: `part` is the
 * replica slot of a container, or the kind of a per-host resource.
 */
export const childNames = {
  container: (service: string, host: string, slot: number) => `${service}-${host}-${slot}`,
  image: (service: string, host: string) => `${service}-${host}-image`,
  nginxSite: (service: string, host: string) => `${service}-${host}-nginx`,
  cronFile: (service: string, host: string) => `${service}-${host}-cron`,
  release: (service: string, host: string) => `${service}-${host}-release`,
  /** One per service, not per host: moving it to another host does not run it again. */
  predeploy: (service: string) => `${service}-predeploy`,
};

/** The host part of a child's name (host names may hold "-", parts never do). */
export function hostOfChildName(service: string, childName: string): string {
  const rest = childName.startsWith(`${service}-`)
    ? childName.slice(service.length + 1)
    : childName;
  const cut = rest.lastIndexOf("-");
  return cut > 0 ? rest.slice(0, cut) : rest;
}
