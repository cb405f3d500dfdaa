// The policies' checks: pure functions from the services' facts and the
// policy's config to violation messages. pack-policies.ts gives them to
// @pulumi/policy; the tests call them directly.
import type { ServiceFacts } from "../protocol/policy-facts";

export interface Violation {
  /** The Service component the violation is about. */
  urn: string;
  message: string;
}

export type Facts = ServiceFacts & { urn: string };

export interface CheckConfig {
  /** http services: containers across all hosts at least. */
  minContainers: number;
  /** Env names that look like credentials: `*` for any text, matched ignoring case. */
  credentialKeys: string[];
}

export const DEFAULT_CONFIG: CheckConfig = {
  minContainers: 2,
  credentialKeys: ["*PASSWORD*", "*SECRET*", "*TOKEN*", "*_KEY", "DATABASE_URL"],
};

export type Check = (services: readonly Facts[], config: CheckConfig) => Violation[];

const FULL_SHA = /^[0-9a-f]{40}$/;

export const fullRevision: Check = (services) =>
  services
    .filter((s) => !FULL_SHA.test(s.revision))
    .map((s) => ({
      urn: s.urn,
      message: `service ${s.service} deploys revision ${s.revision}, not a full 40-hex git SHA: a short one can come to name another commit (deploy with -c conductor:revision=$(git rev-parse HEAD))`,
    }));

export const httpHealthCheckPath: Check = (services) =>
  services
    .filter((s) => s.http && !s.http.healthCheckPath)
    .map((s) => ({
      urn: s.urn,
      message: `service ${s.service} serves http without a health check path of its own: set conductor:services.${s.service}.http.healthCheck.path to what the app answers 2xx on when it is ready (the default, /health, is a guess)`,
    }));

export const httpMinContainers: Check = (services, { minContainers }) =>
  services
    .filter((s) => s.http && s.containers < minContainers)
    .map((s) => ({
      urn: s.urn,
      message: `service ${s.service} serves http from ${s.containers} container${s.containers === 1 ? "" : "s"} across its hosts (${s.hosts.join(", ")}), fewer than ${minContainers}: one restart or crash takes it down (raise replicas or add hosts)`,
    }));

export const plainCredentials: Check = (services, { credentialKeys }) => {
  const patterns = credentialKeys.map(globToRegExp);
  return services.flatMap((s) =>
    s.env.secret
      ? []
      : s.env.keys
          .filter((key) => patterns.some((p) => p.test(key)))
          .map((key) => ({
            urn: s.urn,
            message: `service ${s.service}: env ${key} looks like a credential and is a plain value: set it with pulumi config set --secret --path 'conductor:services.${s.service}.env.${key}'`,
          })),
  );
};

export const registryPasswordSecret: Check = (services) =>
  services
    .filter((s) => s.registry && !s.registry.passwordSecret)
    .map((s) => ({
      urn: s.urn,
      message: `service ${s.service} pulls from ${s.registry!.server} with a plain password: set it with pulumi config set --secret --path 'conductor:registries["${s.registry!.server}"].password'`,
    }));

/** `*_KEY` -> /^.*_KEY$/i; every other character stands for itself. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "i");
}
