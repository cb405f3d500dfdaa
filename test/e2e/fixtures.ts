// Stack configs for the end-to-end tests, built from small overrides.

export type HostKind = "local" | "ssh";

export function hostsFor(kind: HostKind): Record<string, unknown> {
  return kind === "local"
    ? { box: { address: "local" } }
    : { box: { address: "127.0.0.1", user: "root" } };
}

export interface WebOptions {
  app: string;
  revision: string;
  kind: HostKind;
  listen: number;
  replicas?: number;
  env?: Record<string, string>;
  stopTimeout?: string;
}

/** One http service `web` of the example image behind nginx on `listen`. */
export function webConfig(o: WebOptions): Record<string, unknown> {
  return {
    "conductor:app": o.app,
    "conductor:revision": o.revision,
    "conductor:hosts": hostsFor(o.kind),
    "conductor:services": {
      web: {
        image: "conductor-hello",
        hosts: ["box"],
        replicas: o.replicas ?? 2,
        http: {
          port: 8080,
          healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "15s" },
          nginx: { listen: o.listen, serverName: "localhost" },
        },
        stopTimeout: o.stopTimeout ?? "10s",
        ...(o.env ? { env: o.env } : {}),
      },
    },
  };
}

export const serviceId = (app: string, stack: string) => `${app}_web_${stack}`;
