// deployFleet under Pulumi mocks: the exact resources, their inputs as the
// engine receives them (secrets still wrapped), and the options that order a
// zero-downtime deploy. Not proven here: what the engine does with those
// options (the e2e tests cover that).
import * as pulumi from "@pulumi/pulumi";
import { loadFleet } from "../config/load";
import type { RawFleetInput } from "../config/model";
import { typeOfUrn } from "../provider/provider";
import { containsSecret, secret } from "../provider/secrets";
import { PROJECT, STACK, key, runUnderMocks, type Registered } from "./mocks.testutil";
import { renderNginxSite } from "./nginx-config";

const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
const WEB_IMAGE = "registry.example.com/shop/web";
const WEB_ENV = { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db/app" };
const HEALTH = { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 };
/** The default logging (protocol DEFAULT_LOGGING). */
const ROTATING = { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } };
const LOCAL = { host: "local", address: "local", local: true, user: "root", port: 22 };
const APP_1 = { host: "app-1", address: "10.0.1.11", local: false, user: "deploy", port: 2222 };

const HOST = "conductor:index:Host";
const SERVICE = "conductor:index:Service";
const AGENT = "fleet:index:Agent";
const CONTAINER = "fleet:index:Container";
const NGINX = "fleet:index:NginxSite";
const RELEASE = "fleet:index:Release";
const IMAGE = "fleet:index:Image";

/** web: http + nginx, 2 replicas on both hosts; worker: 1 replica on app-1 only. */
function fleetInput(secretKeys: string[]): RawFleetInput {
  return {
    project: PROJECT,
    stack: STACK,
    app: "shop",
    revision: SHA,
    hosts: {
      local: { address: "local" },
      "app-1": { address: "10.0.1.11", user: "deploy", port: 2222 },
    },
    services: {
      web: {
        image: WEB_IMAGE,
        command: ["bin/web", "--port", "3000"],
        replicas: 2,
        http: { port: 3000, nginx: { listen: 8080, serverName: "web.example.com" } },
        stopTimeout: "10s",
        env: WEB_ENV,
      },
      worker: { image: "registry.example.com/shop/worker", hosts: ["app-1"] },
    },
    secretKeys: new Set(secretKeys),
  };
}

async function deploy(input: RawFleetInput, privateKey?: string) {
  const loaded = loadFleet(input);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return runUnderMocks(async () => {
    const { deployFleet } = await import("./fleet");
    deployFleet({
      fleet: loaded.fleet,
      // Plain on purpose: the component itself must make the connection secret.
      privateKey: privateKey === undefined ? undefined : pulumi.output(privateKey),
      bundle: { path: "/build/conductor-host.js", sha256: "bundle-sha" },
    });
  });
}

function webContainer(slot: number, connection: unknown, env: unknown) {
  return {
    connection,
    serviceId: "shop_web_dev",
    slot,
    image: WEB_IMAGE,
    revision: SHA,
    command: ["bin/web", "--port", "3000"],
    env,
    http: { port: 3000, healthCheck: HEALTH },
    stopTimeoutMs: 10000,
    logging: ROTATING,
  };
}

describe("deployFleet with secret services and an SSH key", () => {
  let resources: Map<string, Registered>;
  let hostPorts: Map<string, number>;
  const inputsOf = (type: string, name: string) => resources.get(key(type, name))?.inputs;
  const sshConnection = secret({ ...APP_1, privateKey: KEY });

  beforeAll(async () => {
    ({ resources, hostPorts } = await deploy(fleetInput(["conductor:services"]), KEY));
  });

  it("registers exactly these resources under these parents", () => {
    const parents = Object.fromEntries([...resources].map(([k, r]) => [k, r.parent ?? "stack"]));
    expect(parents).toEqual({
      [key(HOST, "local")]: "stack",
      [key(HOST, "app-1")]: "stack",
      [key(AGENT, "local")]: key(HOST, "local"),
      [key(AGENT, "app-1")]: key(HOST, "app-1"),
      [key(SERVICE, "web")]: "stack",
      [key(IMAGE, "web-local-image")]: key(SERVICE, "web"),
      [key(IMAGE, "web-app-1-image")]: key(SERVICE, "web"),
      [key(CONTAINER, "web-local-0")]: key(SERVICE, "web"),
      [key(CONTAINER, "web-local-1")]: key(SERVICE, "web"),
      [key(CONTAINER, "web-app-1-0")]: key(SERVICE, "web"),
      [key(CONTAINER, "web-app-1-1")]: key(SERVICE, "web"),
      [key(NGINX, "web-local-nginx")]: key(SERVICE, "web"),
      [key(NGINX, "web-app-1-nginx")]: key(SERVICE, "web"),
      [key(RELEASE, "web-local-release")]: key(SERVICE, "web"),
      [key(RELEASE, "web-app-1-release")]: key(SERVICE, "web"),
      [key(SERVICE, "worker")]: "stack",
      [key(IMAGE, "worker-app-1-image")]: key(SERVICE, "worker"),
      [key(CONTAINER, "worker-app-1-0")]: key(SERVICE, "worker"),
      [key(RELEASE, "worker-app-1-release")]: key(SERVICE, "worker"),
    });
  });

  it("gives every fleet resource a URN the provider reads its type from", () => {
    const fleetResources = [...resources.values()].filter((r) => r.type.startsWith("fleet:"));
    expect(fleetResources.map((r) => typeOfUrn(r.urn))).toEqual(fleetResources.map((r) => r.type));
    expect(resources.get(key(CONTAINER, "web-local-0"))?.urn).toBe(
      `urn:pulumi:${STACK}::${PROJECT}::${SERVICE}$${CONTAINER}::web-local-0`,
    );
  });

  it.each([
    ["web-local-0", webContainer(0, LOCAL, secret(WEB_ENV))],
    ["web-local-1", webContainer(1, LOCAL, secret(WEB_ENV))],
    ["web-app-1-0", webContainer(0, sshConnection, secret(WEB_ENV))],
    ["web-app-1-1", webContainer(1, sshConnection, secret(WEB_ENV))],
    [
      "worker-app-1-0",
      {
        connection: sshConnection,
        serviceId: "shop_worker_dev",
        slot: 0,
        image: "registry.example.com/shop/worker",
        revision: SHA,
        env: secret({}),
        stopTimeoutMs: 30000,
        logging: ROTATING,
      },
    ],
  ])("sends container %s its whole spec", (name, expected) => {
    expect(inputsOf(CONTAINER, name)).toStrictEqual(expected);
  });

  it("installs the agent with the local connection in the clear and without a key", () => {
    expect(inputsOf(AGENT, "local")).toStrictEqual({
      connection: LOCAL,
      bundlePath: "/build/conductor-host.js",
      bundleSha256: "bundle-sha",
    });
  });

  it("installs the agent with the SSH connection secret, key included", () => {
    expect(inputsOf(AGENT, "app-1")).toStrictEqual({
      connection: sshConnection,
      bundlePath: "/build/conductor-host.js",
      bundleSha256: "bundle-sha",
    });
  });

  it.each(["local", "app-1"])("renders the %s nginx site from that host's web ports", (host) => {
    const ports = [hostPorts.get(`web-${host}-0`), hostPorts.get(`web-${host}-1`)] as number[];
    const config = String(inputsOf(NGINX, `web-${host}-nginx`)?.config);
    const upstream = [...config.matchAll(/server 127\.0\.0\.1:(\d+) /g)].map((m) => Number(m[1]));
    expect(upstream).toEqual([...ports].sort((a, b) => a - b));
    expect(config).toBe(
      renderNginxSite({
        serviceId: "shop_web_dev",
        listen: 8080,
        serverName: "web.example.com",
        ports,
      }),
    );
    expect(inputsOf(NGINX, `web-${host}-nginx`)?.serviceId).toBe("shop_web_dev");
  });

  it.each([
    ["web-local-release", LOCAL, "shop_web_dev", ["web-local-0", "web-local-1"]],
    ["web-app-1-release", sshConnection, "shop_web_dev", ["web-app-1-0", "web-app-1-1"]],
    ["worker-app-1-release", sshConnection, "shop_worker_dev", ["worker-app-1-0"]],
  ])("releases %s as that host's containers", (name, connection, serviceId, containers) => {
    // What the release runs is what its containers run (env secret alike).
    const { image, revision, command, env } = inputsOf(CONTAINER, containers[0])!;
    expect(inputsOf(RELEASE, name)).toStrictEqual({
      connection,
      serviceId,
      image,
      revision,
      ...(command === undefined ? {} : { command }),
      env,
      // The mocks name each container `<resource name>-docker`.
      containers: containers.map((c) => `${c}-docker`),
      supervise: true,
    });
  });

  it("orders images after the agent, containers after every host's image, nginx after every container, release last (after the images too)", () => {
    const web = ["web-local-0", "web-local-1", "web-app-1-0", "web-app-1-1"];
    const webImages = [key(IMAGE, "web-local-image"), key(IMAGE, "web-app-1-image")];
    const dependsOn = Object.fromEntries(
      [...resources].filter(([, r]) => r.dependsOn.length > 0).map(([k, r]) => [k, r.dependsOn]),
    );
    expect(dependsOn).toEqual({
      [key(IMAGE, "web-local-image")]: [key(AGENT, "local")],
      [key(IMAGE, "web-app-1-image")]: [key(AGENT, "app-1")],
      [key(IMAGE, "worker-app-1-image")]: [key(AGENT, "app-1")],
      [key(CONTAINER, "web-local-0")]: [key(AGENT, "local"), ...webImages],
      [key(CONTAINER, "web-local-1")]: [key(AGENT, "local"), ...webImages],
      [key(CONTAINER, "web-app-1-0")]: [key(AGENT, "app-1"), ...webImages],
      [key(CONTAINER, "web-app-1-1")]: [key(AGENT, "app-1"), ...webImages],
      [key(CONTAINER, "worker-app-1-0")]: [key(AGENT, "app-1"), key(IMAGE, "worker-app-1-image")],
      [key(NGINX, "web-local-nginx")]: [key(AGENT, "local"), ...web.map((c) => key(CONTAINER, c))],
      [key(NGINX, "web-app-1-nginx")]: [key(AGENT, "app-1"), ...web.map((c) => key(CONTAINER, c))],
      [key(RELEASE, "web-local-release")]: [
        key(AGENT, "local"),
        ...webImages,
        ...web.map((c) => key(CONTAINER, c)),
        key(NGINX, "web-local-nginx"),
      ],
      [key(RELEASE, "web-app-1-release")]: [
        key(AGENT, "app-1"),
        ...webImages,
        ...web.map((c) => key(CONTAINER, c)),
        key(NGINX, "web-app-1-nginx"),
      ],
      [key(RELEASE, "worker-app-1-release")]: [
        key(AGENT, "app-1"),
        key(IMAGE, "worker-app-1-image"),
        key(CONTAINER, "worker-app-1-0"),
      ],
    });
  });

  // Replacements must stay create-before-delete, and nothing may outlive its stack.
  it("sets no option that changes how resources are replaced or deleted", () => {
    const forbidden = ["deleteBeforeReplace", "retainOnDelete", "deletedWith", "replaceOnChanges"];
    const isSet = (v: unknown) => (Array.isArray(v) ? v.length > 0 : Boolean(v));
    const offending = [...resources].flatMap(([k, r]) =>
      forbidden
        .filter((o) => isSet((r.opts as Record<string, unknown>)[o]))
        .map((o) => `${k} ${o}`),
    );
    expect(offending).toEqual([]);
  });
});

describe("deployFleet with plain config and no SSH key", () => {
  let resources: Map<string, Registered>;

  beforeAll(async () => {
    ({ resources } = await deploy(fleetInput([])));
  });

  // Plain inputs let preview show what changes; only secret config is hidden.
  it("sends no secret at all", () => {
    const secrets = [...resources].filter(([, r]) => containsSecret(r.inputs)).map(([k]) => k);
    expect(secrets).toEqual([]);
  });

  it("sends env and the SSH connection as they are", () => {
    expect(resources.get(key(CONTAINER, "web-app-1-0"))?.inputs).toStrictEqual(
      webContainer(0, APP_1, WEB_ENV),
    );
  });
});

describe("deployFleet with a cron service", () => {
  const CRON = "fleet:index:CronFile";
  let resources: Map<string, Registered>;

  beforeAll(async () => {
    const input = fleetInput([]);
    input.services = {
      web: (input.services as Record<string, unknown>).web,
      jobs: {
        image: WEB_IMAGE,
        hosts: ["local"],
        replicas: 0,
        cron: { generate: ["bin/generate-cron"] },
        env: { RAILS_ENV: "production" },
      },
    };
    ({ resources } = await deploy(input));
  });

  it("installs the cron file from the service's image, revision and env", () => {
    expect(resources.get(key(CRON, "jobs-local-cron"))?.inputs).toStrictEqual({
      connection: LOCAL,
      serviceId: "shop_jobs_dev",
      image: WEB_IMAGE,
      revision: SHA,
      env: { RAILS_ENV: "production" },
      generate: ["bin/generate-cron"],
      allowOverlap: false,
    });
  });

  // A cron-only service has no container to wait for the pull: the cron file
  // (generate-cron runs in the new image) and the release wait for it themselves.
  it("installs the cron file once the image is on the host, and releases after it", () => {
    expect(resources.get(key(CRON, "jobs-local-cron"))?.dependsOn).toEqual([
      key(AGENT, "local"),
      key(IMAGE, "jobs-local-image"),
    ]);
    expect(resources.get(key(RELEASE, "jobs-local-release"))?.dependsOn).toEqual([
      key(AGENT, "local"),
      key(IMAGE, "jobs-local-image"),
      key(CRON, "jobs-local-cron"),
    ]);
    expect([...resources.keys()].filter((k) => k.startsWith(`${CONTAINER}::jobs`))).toEqual([]);
  });
});

describe("deployFleet with a worker that sets every runtime field", () => {
  let resources: Map<string, Registered>;
  const RUNTIME = {
    volumes: [
      { source: "uploads", target: "/app/uploads", readOnly: false },
      { source: "/srv/certs", target: "/certs", readOnly: true },
    ],
    resources: { memoryBytes: 512 * 2 ** 20, cpus: 1.5 },
    user: "app",
    stopSignal: "SIGQUIT",
    labels: { team: "payments" },
  };

  beforeAll(async () => {
    const input = fleetInput([]);
    input.services = {
      worker: {
        image: "registry.example.com/shop/worker",
        hosts: ["local"],
        healthCheck: { command: ["bin/healthcheck"], timeout: "1s", deadline: "30s" },
        volumes: ["uploads:/app/uploads", "/srv/certs:/certs:ro"],
        resources: { memory: "512m", cpus: 1.5 },
        logging: { driver: "local", options: { "max-size": "20m" } },
        user: "app",
        stopSignal: "SIGQUIT",
        labels: { team: "payments" },
      },
    };
    ({ resources } = await deploy(input));
  });

  it("sends the container its whole spec: the command check, the runtime fields and the log driver", () => {
    expect(resources.get(key(CONTAINER, "worker-local-0"))?.inputs).toStrictEqual({
      connection: LOCAL,
      serviceId: "shop_worker_dev",
      slot: 0,
      image: "registry.example.com/shop/worker",
      revision: SHA,
      env: {},
      healthCheck: {
        command: ["bin/healthcheck"],
        timeoutMs: 1000,
        intervalMs: 1000,
        deadlineMs: 30000,
      },
      stopTimeoutMs: 30000,
      ...RUNTIME,
      logging: { driver: "local", options: { "max-size": "20m" } },
    });
  });

  it("gives the release the runtime fields, for conductor run, but no health check or logging", () => {
    expect(resources.get(key(RELEASE, "worker-local-release"))?.inputs).toStrictEqual({
      connection: LOCAL,
      serviceId: "shop_worker_dev",
      image: "registry.example.com/shop/worker",
      revision: SHA,
      env: {},
      containers: ["worker-local-0-docker"],
      supervise: true,
      ...RUNTIME,
    });
  });
});

describe("deployFleet with a predeploy", () => {
  const PREDEPLOY = "fleet:index:Predeploy";
  let resources: Map<string, Registered>;

  beforeAll(async () => {
    const input = fleetInput(["conductor:services"]);
    const services = input.services as Record<string, Record<string, unknown>>;
    services.web = { ...services.web, predeploy: { command: ["bin/rails", "db:migrate"] } };
    ({ resources } = await deploy(input));
  });

  it("runs it once, on the service's first host, with the env secret and the 10m default timeout", () => {
    const predeploys = [...resources.keys()].filter((k) => k.startsWith(`${PREDEPLOY}::`));
    expect(predeploys).toEqual([key(PREDEPLOY, "web-predeploy")]);
    const { inputs, parent } = resources.get(key(PREDEPLOY, "web-predeploy"))!;
    expect(parent).toBe(key(SERVICE, "web"));
    expect(inputs).toStrictEqual({
      connection: LOCAL,
      serviceId: "shop_web_dev",
      image: WEB_IMAGE,
      revision: SHA,
      env: secret(WEB_ENV),
      command: ["bin/rails", "db:migrate"],
      timeoutMs: 600_000,
    });
  });

  it("runs it after the first host's image, and every container, nginx site and release of the service after it", () => {
    const dependsOn = (name: string, type = CONTAINER) => resources.get(key(type, name))?.dependsOn;
    const pre = key(PREDEPLOY, "web-predeploy");
    expect(dependsOn("web-predeploy", PREDEPLOY)).toEqual([
      key(AGENT, "local"),
      key(IMAGE, "web-local-image"),
    ]);
    for (const c of ["web-local-0", "web-local-1", "web-app-1-0", "web-app-1-1"])
      expect(dependsOn(c)).toContain(pre);
    for (const r of ["web-local-release", "web-app-1-release"])
      expect(dependsOn(r, RELEASE)).toContain(pre);
    expect(dependsOn("worker-app-1-0")).not.toContain(pre);
  });
});
