/** Test inputs: a small valid config that each test changes in one place. */
import type { RawFleetInput } from "./model";

export const IMAGE = "registry.example.com/shop/app";
export const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";

/** Two SSH hosts and one service that runs on both (no `hosts:`, so all of them). */
export function rawInput(overrides: Partial<RawFleetInput> = {}): RawFleetInput {
  return {
    project: "shop",
    stack: "production",
    revision: SHA,
    hosts: {
      "app-1": { address: "10.0.1.11", user: "deploy" },
      "app-2": { address: "10.0.1.12" },
    },
    services: { app: { image: IMAGE } },
    secretKeys: new Set(),
    ...overrides,
  };
}

/** The base config with conductor:services.app replaced by `{ image, ...fields }`. */
export function withApp(fields: Record<string, unknown>, overrides: Partial<RawFleetInput> = {}) {
  return rawInput({ services: { app: { image: IMAGE, ...fields } }, ...overrides });
}

/**
 * The example configuration of the README ("Configuration") and SPEC.md (its
 * second-wave fields too), with the secret DATABASE_URL decrypted as Pulumi does.
 */
export function specInput(): RawFleetInput {
  return {
    project: "conductor",
    stack: "production",
    app: "gocardless",
    revision: SHA,
    hosts: {
      "app-1": { address: "10.0.1.11", user: "deploy" },
      "app-2": { address: "10.0.1.12", user: "deploy", port: 2222 },
    },
    services: {
      app: {
        image: "registry.example.com/gocardless/app",
        command: ["bundle", "exec", "puma", "-C", "config/puma.rb"],
        hosts: ["app-1", "app-2"],
        replicas: 2,
        http: {
          port: 3000,
          healthCheck: { path: "/health", timeout: "2s", interval: "1s", deadline: "60s" },
          nginx: { listen: 80, serverName: "api.example.com" },
        },
        stopTimeout: "30s",
        env: { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db.internal/app" },
        volumes: ["uploads:/app/uploads", "/srv/certs:/certs:ro"],
        resources: { memory: "512m", cpus: 1.5 },
        logging: { driver: "json-file", options: { "max-size": "10m" } },
        user: "app",
        stopSignal: "SIGQUIT",
        labels: { team: "payments" },
      },
      worker: {
        image: "registry.example.com/gocardless/app",
        command: ["bundle", "exec", "sidekiq"],
        hosts: ["app-2"],
        replicas: 3,
        healthCheck: { command: ["bin/healthcheck"] },
      },
      cron: {
        image: "registry.example.com/gocardless/app",
        hosts: ["app-1"],
        cron: { generate: ["bin/generate-cron"] },
        supervise: false,
      },
    },
    secretKeys: new Set(["conductor:services"]),
  };
}
