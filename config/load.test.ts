import { DEFAULT_LOGGING } from "../protocol/requests";
import { IMAGE, SHA, rawInput, specInput, withApp } from "./fixtures";
import { formatIssues, loadFleet } from "./load";
import type { Fleet, RawFleetInput } from "./model";

/** Every issue as the operator reads it: `path: message`. */
function problems(input: RawFleetInput): string[] {
  const result = loadFleet(input);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.issues.map((i) => `${i.path}: ${i.message}`);
}

const secretServices = { secretKeys: new Set(["conductor:services"]) };
const NAME_RULE = `lowercase letters, digits and "-", starting with a letter or digit`;
const KEYS =
  "image, revision, command, hosts, replicas, http, healthCheck, stopTimeout, stopSignal, env, volumes, resources, logging, user, labels, cron, predeploy, supervise";
const POSITIVE = `expected a duration from 1ms to 24d such as "500ms", "2s" or "1m"`;
const NO_TAG = "(conductor deploys <image>:<revision>)";

describe("loadFleet rejects", () => {
  it.each<[string, RawFleetInput, string[]]>([
    [
      "replicas as a word",
      withApp({ replicas: "two" }),
      [`conductor:services.app.replicas: expected a whole number >= 0, got "two"`],
    ],
    [
      "fractional replicas",
      withApp({ replicas: 1.5 }),
      ["conductor:services.app.replicas: expected a whole number >= 0, got 1.5"],
    ],
    [
      "negative replicas",
      withApp({ replicas: -1 }),
      ["conductor:services.app.replicas: expected a whole number >= 0, got -1"],
    ],
    [
      "a service without image",
      rawInput({ services: { app: { replicas: 2 } } }),
      ["conductor:services.app.image: required"],
    ],
    [
      "an image with a tag",
      withApp({ image: `${IMAGE}:v1` }),
      [
        `conductor:services.app.image: expected a repository without a tag ${NO_TAG}, got "${IMAGE}:v1"`,
      ],
    ],
    [
      "an image with an empty tag",
      withApp({ image: "shop/app:" }),
      [
        `conductor:services.app.image: expected a repository without a tag ${NO_TAG}, got "shop/app:"`,
      ],
    ],
    [
      "an image with a digest",
      withApp({ image: "shop/app@sha256:0123abcd" }),
      [
        `conductor:services.app.image: expected a repository without a digest ${NO_TAG}, got "shop/app@sha256:0123abcd"`,
      ],
    ],
    [
      "an image that is not a repository reference",
      withApp({ image: "registry.example.com:5000/Shop App" }),
      [
        `conductor:services.app.image: expected an image repository such as registry.example.com/team/app, got "registry.example.com:5000/Shop App"`,
      ],
    ],
    [
      "an image with upper-case letters in its path",
      withApp({ image: "registry.example.com:5000/Shop" }),
      [
        `conductor:services.app.image: expected a repository such as registry.example.com/team/app (lowercase), got "registry.example.com:5000/Shop"`,
      ],
    ],
    ["http without port", withApp({ http: {} }), ["conductor:services.app.http.port: required"]],
    [
      "an http port out of range",
      withApp({ http: { port: 70000 } }),
      ["conductor:services.app.http.port: expected a port from 1 to 65535, got 70000"],
    ],
    [
      "a health check timeout given as a number",
      withApp({ http: { port: 3000, healthCheck: { timeout: 2 } } }),
      [`conductor:services.app.http.healthCheck.timeout: ${POSITIVE}, got 2`],
    ],
    [
      "a zero health check interval",
      withApp({ http: { port: 3000, healthCheck: { interval: "0s" } } }),
      [`conductor:services.app.http.healthCheck.interval: ${POSITIVE}, got "0s"`],
    ],
    [
      "a health check deadline without unit",
      withApp({ http: { port: 3000, healthCheck: { deadline: "60" } } }),
      [`conductor:services.app.http.healthCheck.deadline: ${POSITIVE}, got "60"`],
    ],
    [
      "a health check path without leading slash",
      withApp({ http: { port: 3000, healthCheck: { path: "health" } } }),
      [
        `conductor:services.app.http.healthCheck.path: expected a path starting with "/" without spaces, such as /health, got "health"`,
      ],
    ],
    [
      "a misspelt health check key",
      withApp({ http: { port: 3000, healthCheck: { timout: "2s" } } }),
      [
        `conductor:services.app.http.healthCheck.timout: unknown key "timout", expected one of: path, timeout, interval, deadline`,
      ],
    ],
    [
      "an nginx listen port given as a string",
      withApp({ http: { port: 3000, nginx: { listen: "80" } } }),
      [`conductor:services.app.http.nginx.listen: expected a port from 1 to 65535, got "80"`],
    ],
    [
      "an nginx server name with a space",
      withApp({ http: { port: 3000, nginx: { serverName: "api example.com" } } }),
      [
        `conductor:services.app.http.nginx.serverName: expected a server name such as api.example.com, or "_", got "api example.com"`,
      ],
    ],
    [
      "nginx on a service without http",
      withApp({ nginx: { listen: 80 } }),
      ["conductor:services.app.nginx: nginx needs http: move it under http, or add http.port"],
    ],
    [
      "an http health check on a service without http",
      withApp({ healthCheck: { path: "/up" } }),
      [
        `conductor:services.app.healthCheck.path: unknown key "path", expected one of: command, timeout, interval, deadline (path is for http services: put it under http.healthCheck)`,
        "conductor:services.app.healthCheck.command: required",
      ],
    ],
    [
      "a label of conductor's own, in --path syntax",
      withApp({ labels: { "conductor.slot": "0" } }),
      [
        `conductor:services.app.labels["conductor.slot"]: expected a label not starting with "conductor.": conductor sets conductor.service, conductor.slot and conductor.port itself, and they cannot be overridden, got "conductor.slot"`,
      ],
    ],
    [
      "port at the service level",
      withApp({ port: 3000 }),
      ["conductor:services.app.port: port needs http: move it to http.port"],
    ],
    [
      "an unknown service key",
      withApp({ replica: 2 }),
      [`conductor:services.app.replica: unknown key "replica", expected one of: ${KEYS}`],
    ],
    [
      "a negative stop timeout",
      withApp({ stopTimeout: "-5s" }),
      [
        `conductor:services.app.stopTimeout: expected a duration from 0s to 24d such as "10s" or "1m", got "-5s"`,
      ],
    ],
    [
      "an env name starting with a digit",
      withApp({ env: { "1BAD": "x" } }),
      [
        `conductor:services.app.env.1BAD: expected an env name of letters, digits and "_", not starting with a digit, got "1BAD"`,
      ],
    ],
    [
      "an env name with a dot, shown in --path syntax",
      withApp({ env: { "a.b": "x" } }),
      [
        `conductor:services.app.env["a.b"]: expected an env name of letters, digits and "_", not starting with a digit, got "a.b"`,
      ],
    ],
    [
      "an env value that is an object",
      withApp({ env: { FOO: { bar: 1 } } }),
      [`conductor:services.app.env.FOO: expected a string, number or boolean, got {"bar":1}`],
    ],
    [
      "an env value with NUL (not secret)",
      withApp({ env: { FOO: "a\0b" } }),
      [
        `conductor:services.app.env.FOO: expected a value without the NUL character, got "a\\u0000b"`,
      ],
    ],
    [
      "a command as one string",
      withApp({ command: "bundle exec puma" }),
      [
        `conductor:services.app.command: expected a non-empty list of strings such as [bundle, exec, puma], got "bundle exec puma"`,
      ],
    ],
    [
      "a command with a number YAML did not quote",
      withApp({ command: ["sleep", 10] }),
      ["conductor:services.app.command[1]: expected a string (quote numbers in YAML), got 10"],
    ],
    [
      "cron without generate",
      withApp({ cron: {} }),
      ["conductor:services.app.cron.generate: required"],
    ],
    [
      "cron allowOverlap as a word",
      withApp({ cron: { generate: ["bin/cron"], allowOverlap: "yes" } }),
      [`conductor:services.app.cron.allowOverlap: expected true or false, got "yes"`],
    ],
    [
      "predeploy without command",
      withApp({ predeploy: { timeout: "5m" } }),
      ["conductor:services.app.predeploy.command: required"],
    ],
    [
      "predeploy with an empty command and a timeout without unit",
      withApp({ predeploy: { command: [], timeout: 600 } }),
      [
        "conductor:services.app.predeploy.command: expected a non-empty list of strings such as [bin/rails, db:migrate], got []",
        `conductor:services.app.predeploy.timeout: ${POSITIVE}, got 600`,
      ],
    ],
    [
      "supervise as a word",
      withApp({ supervise: "no" }),
      [`conductor:services.app.supervise: expected true or false, got "no"`],
    ],
    [
      "an upper-case service name",
      rawInput({ services: { Web: { image: IMAGE } } }),
      [`conductor:services.Web: expected a service name of ${NAME_RULE}, got "Web"`],
    ],
    ["no services", rawInput({ services: undefined }), ["conductor:services: required"]],
    [
      "an empty services object",
      rawInput({ services: {} }),
      ["conductor:services: expected at least one service, got {}"],
    ],
    [
      "a service left empty in YAML",
      rawInput({ services: { app: null } }),
      [
        "conductor:services.app: expected an object such as { image: registry.example.com/team/app }, got null",
      ],
    ],
    [
      "a host without address",
      rawInput({ hosts: { "app-1": { user: "deploy" } } }),
      ["conductor:hosts.app-1.address: required"],
    ],
    [
      "a host address starting with -",
      rawInput({ hosts: { "app-1": { address: "-oProxyCommand=x" } } }),
      [
        `conductor:hosts.app-1.address: expected "local" or a host name or IP address, got "-oProxyCommand=x"`,
      ],
    ],
    [
      "an SSH port of 0",
      rawInput({ hosts: { "app-1": { address: "10.0.1.11", port: 0 } } }),
      ["conductor:hosts.app-1.port: expected a port from 1 to 65535, got 0"],
    ],
    [
      "an upper-case SSH user",
      rawInput({ hosts: { "app-1": { address: "10.0.1.11", user: "Deploy" } } }),
      [
        `conductor:hosts.app-1.user: expected a user name of lowercase letters, digits, "_" and "-", got "Deploy"`,
      ],
    ],
    [
      "a host name with an underscore",
      rawInput({ hosts: { app_1: { address: "10.0.1.11" } } }),
      [`conductor:hosts.app_1: expected a host name of ${NAME_RULE}, got "app_1"`],
    ],
    [
      "an unknown host key",
      rawInput({ hosts: { "app-1": { address: "10.0.1.11", ssh_port: 22 } } }),
      [
        `conductor:hosts.app-1.ssh_port: unknown key "ssh_port", expected one of: address, user, port`,
      ],
    ],
    [
      "hosts left empty in YAML",
      rawInput({ hosts: null }),
      [
        "conductor:hosts: expected an object of hosts such as { app-1: { address: 10.0.1.11 } }, got null",
      ],
    ],
    [
      "an empty hosts object",
      rawInput({ hosts: {} }),
      ["conductor:hosts: expected at least one host, got {}"],
    ],
    [
      "hosts as a list",
      rawInput({ hosts: ["app-1"] }),
      [
        `conductor:hosts: expected an object of hosts such as { app-1: { address: 10.0.1.11 } }, got ["app-1"]`,
      ],
    ],
    [
      "a local host with an SSH user",
      rawInput({ hosts: { dev: { address: "local", user: "deploy" } } }),
      [
        `conductor:hosts.dev.user: a local host is reached without SSH, so it takes no user, got "deploy"`,
      ],
    ],
    [
      "a revision that is a branch name",
      rawInput({ revision: "main" }),
      [`conductor:revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "main"`],
    ],
    [
      "no revision at all",
      rawInput({ revision: undefined }),
      ["conductor:revision: required, as service app sets no revision of its own"],
    ],
    [
      "an upper-case service revision",
      withApp({ revision: "ABCDEF1" }),
      [
        `conductor:services.app.revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "ABCDEF1"`,
      ],
    ],
    [
      "an all-digit service revision YAML read as a number",
      withApp({ revision: 1234567 }),
      [
        "conductor:services.app.revision: expected a git commit SHA as a string (quote it in YAML, or pass --type string), got 1234567",
      ],
    ],
    [
      "an upper-case app",
      rawInput({ app: "Shop" }),
      [`conductor:app: expected an app name of ${NAME_RULE}, got "Shop"`],
    ],
    [
      "a project name that cannot be the app",
      rawInput({ project: "My_Shop" }),
      [
        `conductor:app: required, as the project name is not a valid app name: expected ${NAME_RULE}, got "My_Shop"`,
      ],
    ],
    [
      "an upper-case stack",
      rawInput({ stack: "Prod" }),
      [`stack: expected a stack name of ${NAME_RULE} (it is part of service ids), got "Prod"`],
    ],
    [
      "an unknown host in a service",
      withApp({ hosts: ["app-1", "app-3"] }),
      [`conductor:services.app.hosts[1]: unknown host "app-3", known hosts: app-1, app-2`],
    ],
    [
      "an empty host list",
      withApp({ hosts: [] }),
      ["conductor:services.app.hosts: expected at least one host, got []"],
    ],
    [
      "a host listed twice",
      withApp({ hosts: ["app-1", "app-2", "app-1"] }),
      [`conductor:services.app.hosts[2]: duplicate of hosts[0], got "app-1"`],
    ],
    [
      "two services with the same nginx listen and serverName",
      rawInput({
        services: {
          app: { image: IMAGE, hosts: ["app-1"], http: { port: 3000, nginx: {} } },
          admin: { image: IMAGE, http: { port: 4000, nginx: { listen: 80 } } },
        },
      }),
      [
        `conductor:services.admin.http.nginx: listen 80 and serverName "_" are already used by service app on host app-1`,
      ],
    ],
    [
      "a bad value under a secret conductor:services",
      withApp({ replicas: "two" }, secretServices),
      ["conductor:services.app.replicas: expected a whole number >= 0, got [secret]"],
    ],
  ])("%s", (_, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });
});

describe("loadFleet reports every problem at once", () => {
  it("lists shape and cross-field problems of one service together, in config order", () => {
    const input = rawInput({
      revision: "main",
      services: {
        app: { image: `${IMAGE}:v1`, replicas: "two", hosts: ["app-9"], http: { port: 0 } },
      },
    });
    expect(problems(input)).toEqual([
      `conductor:revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "main"`,
      `conductor:services.app.image: expected a repository without a tag ${NO_TAG}, got "${IMAGE}:v1"`,
      `conductor:services.app.replicas: expected a whole number >= 0, got "two"`,
      `conductor:services.app.hosts[0]: unknown host "app-9", known hosts: app-1, app-2`,
      "conductor:services.app.http.port: expected a port from 1 to 65535, got 0",
    ]);
  });

  it("checks a service body even when its name is invalid", () => {
    const input = rawInput({ services: { Web: { image: IMAGE, replicas: -2 } } });
    expect(problems(input)).toEqual([
      `conductor:services.Web: expected a service name of ${NAME_RULE}, got "Web"`,
      "conductor:services.Web.replicas: expected a whole number >= 0, got -2",
    ]);
  });

  it("does not call hosts unknown when conductor:hosts itself is broken", () => {
    const input = withApp({ hosts: ["app-1"] }, { hosts: "app-1" });
    expect(problems(input)).toEqual([
      `conductor:hosts: expected an object of hosts such as { app-1: { address: 10.0.1.11 } }, got "app-1"`,
    ]);
  });
});

describe("loadFleet accepts", () => {
  it("the example configuration of the README", () => {
    const expected: Fleet = {
      app: "gocardless",
      stack: "production",
      revision: SHA,
      hosts: [
        { name: "app-1", address: "10.0.1.11", local: false, user: "deploy", port: 22 },
        { name: "app-2", address: "10.0.1.12", local: false, user: "deploy", port: 2222 },
      ],
      registries: [],
      services: [
        {
          name: "app",
          id: "gocardless_app_production",
          image: "registry.example.com/gocardless/app",
          registry: "registry.example.com",
          revision: SHA,
          command: ["bundle", "exec", "puma", "-C", "config/puma.rb"],
          hosts: ["app-1", "app-2"],
          replicas: 2,
          http: {
            port: 3000,
            healthCheck: { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 },
            nginx: { listen: 80, serverName: "api.example.com" },
          },
          stopTimeoutMs: 30000,
          env: { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db.internal/app" },
          envIsSecret: true,
          supervise: true,
          volumes: [
            { source: "uploads", target: "/app/uploads", readOnly: false },
            { source: "/srv/certs", target: "/certs", readOnly: true },
          ],
          resources: { memoryBytes: 536870912, cpus: 1.5 },
          logging: { driver: "json-file", options: { "max-size": "10m" } },
          user: "app",
          stopSignal: "SIGQUIT",
          labels: { team: "payments" },
        },
        {
          name: "worker",
          id: "gocardless_worker_production",
          image: "registry.example.com/gocardless/app",
          registry: "registry.example.com",
          revision: SHA,
          command: ["bundle", "exec", "sidekiq"],
          hosts: ["app-2"],
          replicas: 3,
          stopTimeoutMs: 30000,
          env: {},
          envIsSecret: true,
          supervise: true,
          healthCheck: {
            command: ["bin/healthcheck"],
            timeoutMs: 2000,
            intervalMs: 1000,
            deadlineMs: 60000,
          },
          logging: DEFAULT_LOGGING,
        },
        {
          name: "cron",
          id: "gocardless_cron_production",
          image: "registry.example.com/gocardless/app",
          registry: "registry.example.com",
          revision: SHA,
          hosts: ["app-1"],
          replicas: 1,
          stopTimeoutMs: 30000,
          env: {},
          envIsSecret: true,
          cron: { generate: ["bin/generate-cron"], allowOverlap: false },
          supervise: false,
          logging: DEFAULT_LOGGING,
        },
      ],
    };
    expect(loadFleet(specInput())).toEqual({ ok: true, fleet: expected });
  });

  it("a predeploy command with its timeout in milliseconds", () => {
    const result = loadFleet(
      withApp({ predeploy: { command: ["bin/rails", "db:migrate"], timeout: "2m" } }),
    );
    expect(result.ok && result.fleet.services[0].predeploy).toEqual({
      command: ["bin/rails", "db:migrate"],
      timeoutMs: 120_000,
    });
  });

  it("a minimal dev config: the local host, the project as app, defaults everywhere", () => {
    const input: RawFleetInput = {
      project: "shop",
      stack: "dev",
      revision: "abc1234",
      services: {
        web: {
          image: "shop/web",
          http: { port: 8080, nginx: {} },
          env: { PORT: 8080, DEBUG: true },
        },
      },
      secretKeys: new Set(),
    };
    const fleet: Fleet = {
      app: "shop",
      stack: "dev",
      revision: "abc1234",
      hosts: [{ name: "local", address: "local", local: true, user: "root", port: 22 }],
      registries: [],
      services: [
        {
          name: "web",
          id: "shop_web_dev",
          image: "shop/web",
          registry: "docker.io",
          revision: "abc1234",
          hosts: ["local"],
          replicas: 1,
          http: {
            port: 8080,
            healthCheck: { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 },
            nginx: { listen: 80, serverName: "_" },
          },
          stopTimeoutMs: 30000,
          env: { PORT: "8080", DEBUG: "true" },
          envIsSecret: false,
          supervise: true,
          logging: {
            driver: "json-file",
            options: { "max-size": "10m", "max-file": "5" },
          },
        },
      ],
    };
    expect(loadFleet(input)).toEqual({ ok: true, fleet });
  });

  it("no conductor:revision when every service sets its own", () => {
    const result = loadFleet(withApp({ revision: "abc1234" }, { revision: undefined }));
    expect(result.ok && [result.fleet.revision, result.fleet.services[0].revision]).toEqual([
      undefined,
      "abc1234",
    ]);
  });

  it("a registry with a port, and a zero stop timeout", () => {
    const result = loadFleet(
      withApp({ image: "registry.example.com:5000/app", stopTimeout: "0s" }),
    );
    const service = result.ok ? result.fleet.services[0] : undefined;
    expect([service?.image, service?.stopTimeoutMs]).toEqual(["registry.example.com:5000/app", 0]);
  });

  const ROTATING = { "max-size": "10m", "max-file": "5" };
  it.each<[string, unknown, object]>([
    ["no logging: json-file, rotating", undefined, { driver: "json-file", options: ROTATING }],
    [
      "json-file without options: rotating",
      { driver: "json-file" },
      { driver: "json-file", options: ROTATING },
    ],
    [
      "options without a driver: json-file with exactly those",
      { options: { "max-size": "50m" } },
      { driver: "json-file", options: { "max-size": "50m" } },
    ],
    [
      "another driver without options: none of json-file's",
      { driver: "local" },
      { driver: "local", options: {} },
    ],
    [
      "another driver with its options",
      { driver: "syslog", options: { "syslog-address": "udp://10.0.0.5:514" } },
      { driver: "syslog", options: { "syslog-address": "udp://10.0.0.5:514" } },
    ],
  ])("logging: %s", (_, logging, expected) => {
    const result = loadFleet(withApp(logging === undefined ? {} : { logging }));
    expect(result.ok && result.fleet.services[0].logging).toEqual(expected);
  });

  it("no runtime field the config does not set: Docker's and the image's defaults", () => {
    const result = loadFleet(withApp({}));
    const service = result.ok ? result.fleet.services[0] : undefined;
    expect(service && Object.keys(service)).toEqual([
      "name",
      "id",
      "revision",
      "image",
      "registry",
      "hosts",
      "replicas",
      "stopTimeoutMs",
      "env",
      "envIsSecret",
      "supervise",
      "logging",
    ]);
  });
});

describe("secret values", () => {
  // Proves only that the config layer's messages do not carry them; rendering and logging
  // elsewhere need their own tests.
  const SECRET_TEXT = "hunter2-s3cr3t";

  it("never appear in formatted issues under a secret conductor:services", () => {
    const input = withApp(
      {
        env: { "1BAD": SECRET_TEXT, NUL: `${SECRET_TEXT}\0`, OBJ: { v: SECRET_TEXT } },
        command: [SECRET_TEXT, 5],
        hosts: [SECRET_TEXT],
        http: { port: 3000, nginx: { serverName: `${SECRET_TEXT} x` } },
      },
      secretServices,
    );
    const text = formatIssues(problemsOf(input));
    expect(text).not.toContain(SECRET_TEXT);
    expect(text).not.toContain("hunter");
    expect(text).toBe(
      [
        "invalid conductor config (6 problems):",
        `  conductor:services.app.env.1BAD: expected an env name of letters, digits and "_", not starting with a digit, got "1BAD"`,
        "  conductor:services.app.env.NUL: expected a value without the NUL character, got [secret]",
        "  conductor:services.app.env.OBJ: expected a string, number or boolean, got an object",
        "  conductor:services.app.command[1]: expected a string (quote numbers in YAML), got [secret]",
        "  conductor:services.app.hosts[0]: unknown host [secret], known hosts: app-1, app-2",
        `  conductor:services.app.http.nginx.serverName: expected a server name such as api.example.com, or "_", got [secret]`,
      ].join("\n"),
    );
  });

  it("are marked on every service when conductor:services is secret", () => {
    const result = loadFleet(specInput());
    expect(result.ok && result.fleet.services.map((s) => s.envIsSecret)).toEqual([
      true,
      true,
      true,
    ]);
  });
});

function problemsOf(input: RawFleetInput) {
  const result = loadFleet(input);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.issues;
}

describe("formatIssues", () => {
  it("prints a config with five mistakes as one block, in config order", () => {
    const input = rawInput({
      stack: "Prod",
      hosts: { "app-1": { address: "10.0.1.11" } },
      services: {
        app: { image: `${IMAGE}:latest`, replicas: "two", hosts: ["app-1", "app-3"] },
        worker: { image: IMAGE, nginx: { listen: 80 } },
      },
    });
    expect(formatIssues(problemsOf(input))).toBe(
      [
        "invalid conductor config (5 problems):",
        `  stack: expected a stack name of ${NAME_RULE} (it is part of service ids), got "Prod"`,
        `  conductor:services.app.image: expected a repository without a tag ${NO_TAG}, got "${IMAGE}:latest"`,
        `  conductor:services.app.replicas: expected a whole number >= 0, got "two"`,
        `  conductor:services.app.hosts[1]: unknown host "app-3", known hosts: app-1`,
        "  conductor:services.worker.nginx: nginx needs http: move it under http, or add http.port",
      ].join("\n"),
    );
  });

  it("keeps issues that share a path together, where the path first appears", () => {
    const issues = [
      { path: "conductor:a", message: "one" },
      { path: "conductor:b", message: "two" },
      { path: "conductor:a", message: "three" },
    ];
    expect(formatIssues(issues)).toBe(
      [
        "invalid conductor config (3 problems):",
        "  conductor:a: one",
        "  conductor:a: three",
        "  conductor:b: two",
      ].join("\n"),
    );
  });

  it("says problem, not problems, for one", () => {
    expect(formatIssues([{ path: "stack", message: "x" }])).toBe(
      "invalid conductor config (1 problem):\n  stack: x",
    );
  });
});
