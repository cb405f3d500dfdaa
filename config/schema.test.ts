import { parseAt } from "./issues";
import { DEFAULTS, hostSchema, parseDuration, parseSize, serviceSchema } from "./schema";

/** Parse at a service's path, returning the value or the `path: message` lines. */
function service(raw: unknown) {
  const { data, issues } = parseAt(serviceSchema, raw, {
    prefix: ["services", "app"],
    secret: false,
  });
  return data ?? issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("parseDuration", () => {
  it.each<[string, number]>([
    ["500ms", 500],
    ["2s", 2000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["2 s", 2000],
    ["1h", 3_600_000],
    ["0s", 0],
  ])("reads %s as %i ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each([
    ["2", "no unit: ms() would read it as 2ms"],
    ["", "empty"],
    ["-1s", "negative"],
    ["1.5ms", "not a whole millisecond"],
    ["2 fortnights", "unknown unit"],
    [".5s", "no leading digit"],
    ["1e3s", "exponent"],
  ])("rejects %j (%s)", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("serviceSchema", () => {
  it("fills every default of a bare service", () => {
    expect(service({ image: "shop/app" })).toEqual({
      image: "shop/app",
      replicas: DEFAULTS.replicas,
      stopTimeout: DEFAULTS.stopTimeoutMs,
      supervise: DEFAULTS.supervise,
    });
  });

  it("fills the health check and nginx defaults of an http service", () => {
    expect(service({ image: "shop/app", http: { port: 3000, nginx: {} } })).toMatchObject({
      http: {
        port: 3000,
        healthCheck: { path: "/health", timeout: 2000, interval: 1000, deadline: 60_000 },
        nginx: { listen: 80, serverName: "_" },
      },
    });
  });

  it("keeps cron's allowOverlap false unless set", () => {
    expect(service({ image: "a", cron: { generate: ["bin/cron"] } })).toMatchObject({
      cron: { generate: ["bin/cron"], allowOverlap: false },
    });
  });

  it("gives predeploy a 10m timeout unless set", () => {
    expect(
      service({ image: "a", predeploy: { command: ["bin/rails", "db:migrate"] } }),
    ).toMatchObject({ predeploy: { command: ["bin/rails", "db:migrate"], timeout: 600_000 } });
  });

  it.each<[unknown, string]>([
    ["production", "production"],
    [3000, "3000"],
    [1.5, "1.5"],
    [true, "true"],
    ["line 1\nline 2 $HOME 'q'", "line 1\nline 2 $HOME 'q'"],
  ])("turns env value %j into the string %j", (value, expected) => {
    expect(service({ image: "a", env: { V: value } })).toMatchObject({ env: { V: expected } });
  });

  it.each<[string, unknown, string[]]>([
    [
      "durations need a unit",
      { stopTimeout: 30 },
      [
        `services.app.stopTimeout: expected a duration from 0s to 24d such as "10s" or "1m", got 30`,
      ],
    ],
    [
      "durations past what a timer can hold",
      { http: { port: 1, healthCheck: { deadline: "25d" } } },
      [
        `services.app.http.healthCheck.deadline: expected a duration from 1ms to 24d such as "500ms", "2s" or "1m", got "25d"`,
      ],
    ],
    [
      "an env value that is null",
      { env: { V: null } },
      ["services.app.env.V: expected a string, number or boolean, got null"],
    ],
    [
      "an empty command",
      { command: [] },
      [
        "services.app.command: expected a non-empty list of strings such as [bundle, exec, puma], got []",
      ],
    ],
    [
      "a host name that is not a string",
      { hosts: [1] },
      ["services.app.hosts.0: expected a host name, got 1"],
    ],
    [
      "an http block that is a number",
      { http: 3000 },
      ["services.app.http: expected an object such as { port: 3000 }, got 3000"],
    ],
    [
      "a serverName that is a list",
      { http: { port: 1, nginx: { serverName: ["a", "b"] } } },
      [
        `services.app.http.nginx.serverName: expected a server name such as api.example.com, or "_", got ["a","b"]`,
      ],
    ],
    [
      "a health check path with a space",
      { http: { port: 1, healthCheck: { path: "/up now" } } },
      [
        `services.app.http.healthCheck.path: expected a path starting with "/" without spaces, such as /health, got "/up now"`,
      ],
    ],
  ])("rejects %s", (_, fields, expected) => {
    expect(service({ image: "a", ...(fields as object) })).toEqual(expected);
  });
});

describe("hostSchema", () => {
  it.each<[unknown, object]>([
    [{ address: "10.0.1.11" }, { address: "10.0.1.11" }],
    [
      { address: "app-1.internal", user: "deploy", port: 2222 },
      { address: "app-1.internal", user: "deploy", port: 2222 },
    ],
    [{ address: "fe80::1" }, { address: "fe80::1" }],
    [{ address: "local" }, { address: "local" }],
  ])("accepts %j, leaving defaults to the build step", (raw, expected) => {
    expect(hostSchema.parse(raw)).toEqual(expected);
  });

  it.each<[unknown, string[]]>([
    [{ address: "" }, [`hosts.h.address: expected "local" or a host name or IP address, got ""`]],
    [
      { address: "10.0.1.11 ; rm -rf /" },
      [
        `hosts.h.address: expected "local" or a host name or IP address, got "10.0.1.11 ; rm -rf /"`,
      ],
    ],
    [{ address: "a", port: 22.5 }, ["hosts.h.port: expected a port from 1 to 65535, got 22.5"]],
    [
      { address: "a", user: "-oProxyCommand" },
      [
        `hosts.h.user: expected a user name of lowercase letters, digits, "_" and "-", got "-oProxyCommand"`,
      ],
    ],
    [
      "10.0.1.11",
      [`hosts.h: expected an object such as { address: 10.0.1.11, user: deploy }, got "10.0.1.11"`],
    ],
  ])("rejects %j", (raw, expected) => {
    const { issues } = parseAt(hostSchema, raw, { prefix: ["hosts", "h"], secret: false });
    expect(issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual(expected);
  });
});

describe("a service's runtime fields (issue 14)", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      "volumes: named, host path, read-only, explicit rw",
      { volumes: ["uploads:/app/uploads", "/srv/certs:/certs:ro", "cache.v2:/cache:rw"] },
      {
        volumes: [
          { source: "uploads", target: "/app/uploads", readOnly: false },
          { source: "/srv/certs", target: "/certs", readOnly: true },
          { source: "cache.v2", target: "/cache", readOnly: false },
        ],
      },
    ],
    [
      "memory in Docker's binary units, and cpus",
      { resources: { memory: "512m", cpus: 1.5 } },
      { resources: { memory: 536870912, cpus: 1.5 } },
    ],
    [
      "memory as 1.5GiB",
      { resources: { memory: "1.5GiB" } },
      { resources: { memory: 1610612736 } },
    ],
    [
      "memory at Docker's minimum",
      { resources: { memory: "6m" } },
      { resources: { memory: 6291456 } },
    ],
    [
      "log options given as YAML numbers",
      { logging: { driver: "json-file", options: { "max-size": "10m", "max-file": 3 } } },
      { logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } } },
    ],
    ["a driver alone", { logging: { driver: "local" } }, { logging: { driver: "local" } }],
    ["a user and group", { user: "app:staff" }, { user: "app:staff" }],
    ["a uid as a YAML number", { user: 1000 }, { user: "1000" }],
    ["a stop signal", { stopSignal: "SIGQUIT" }, { stopSignal: "SIGQUIT" }],
    ["a stop signal without SIG", { stopSignal: "USR1" }, { stopSignal: "SIGUSR1" }],
    [
      "labels, values as text",
      { labels: { team: "payments", "com.example.tier": 1, public: false } },
      { labels: { team: "payments", "com.example.tier": "1", public: "false" } },
    ],
    [
      "a command health check, with the http check's defaults",
      { healthCheck: { command: ["bin/healthcheck", "--queue"] } },
      {
        healthCheck: {
          command: ["bin/healthcheck", "--queue"],
          timeout: 2000,
          interval: 1000,
          deadline: 60_000,
        },
      },
    ],
    [
      "a command health check with its own timings",
      { healthCheck: { command: ["true"], timeout: "500ms", interval: "2s", deadline: "1m" } },
      { healthCheck: { command: ["true"], timeout: 500, interval: 2000, deadline: 60_000 } },
    ],
  ])("accepts %s", (_, fields, expected) => {
    expect(service({ image: "a", ...fields })).toMatchObject(expected);
  });

  const VOLUME = `such as "uploads:/app/uploads" or "/srv/certs:/certs:ro"`;
  const MEMORY = `expected a memory size of at least 6m such as "512m" or "1.5g"`;
  const USER = "expected a user name or uid, with an optional group, such as app or 1000:1000";
  it.each<[string, unknown, string[]]>([
    [
      "volumes that are not a list",
      { volumes: "uploads:/app/uploads" },
      [`services.app.volumes: expected a list of volumes ${VOLUME}, got "uploads:/app/uploads"`],
    ],
    [
      "a volume without a target",
      { volumes: ["/data"] },
      [
        `services.app.volumes.0: expected "<volume or /host/path>:</container/path>[:ro]", ${VOLUME}, got "/data"`,
      ],
    ],
    [
      "a volume with too many parts",
      { volumes: ["a:/b:ro:z"] },
      [
        `services.app.volumes.0: expected "<volume or /host/path>:</container/path>[:ro]", ${VOLUME}, got "a:/b:ro:z"`,
      ],
    ],
    [
      "a relative host path",
      { volumes: ["./data:/data"] },
      [
        `services.app.volumes.0: expected an absolute host path (starting with "/") or a volume name before ":", ${VOLUME}, got "./data:/data"`,
      ],
    ],
    [
      "a host path without its leading /",
      { volumes: ["srv/data:/data"] },
      [
        `services.app.volumes.0: expected an absolute host path (starting with "/") or a volume name before ":", ${VOLUME}, got "srv/data:/data"`,
      ],
    ],
    [
      "a volume name Docker refuses",
      { volumes: ["up loads:/data"] },
      [
        `services.app.volumes.0: expected a volume name of letters, digits, "_", "." and "-" (at least 2), or an absolute host path, before ":", got "up loads:/data"`,
      ],
    ],
    [
      "a relative target",
      { volumes: ["uploads:app/uploads"] },
      [
        `services.app.volumes.0: expected an absolute path in the container after ":", ${VOLUME}, got "uploads:app/uploads"`,
      ],
    ],
    [
      "an unknown mode",
      { volumes: ["uploads:/data:z"] },
      [
        `services.app.volumes.0: expected ":ro" or ":rw" at the end, ${VOLUME}, got "uploads:/data:z"`,
      ],
    ],
    [
      "a volume that is not a string",
      { volumes: [{ source: "uploads" }] },
      [`services.app.volumes.0: expected a volume ${VOLUME}, got {"source":"uploads"}`],
    ],
    [
      "memory without a unit",
      { resources: { memory: "512" } },
      [`services.app.resources.memory: ${MEMORY}, got "512"`],
    ],
    [
      "memory as a number",
      { resources: { memory: 512 } },
      [`services.app.resources.memory: ${MEMORY}, got 512`],
    ],
    [
      "memory below 6m",
      { resources: { memory: "4m" } },
      [`services.app.resources.memory: ${MEMORY}, got "4m"`],
    ],
    [
      "memory in an unknown unit",
      { resources: { memory: "2x" } },
      [`services.app.resources.memory: ${MEMORY}, got "2x"`],
    ],
    [
      "cpus as a string",
      { resources: { cpus: "1.5" } },
      [
        `services.app.resources.cpus: expected a number of CPUs from 0.01, such as 0.5 or 2, got "1.5"`,
      ],
    ],
    [
      "no cpus at all",
      { resources: { cpus: 0 } },
      ["services.app.resources.cpus: expected a number of CPUs from 0.01, such as 0.5 or 2, got 0"],
    ],
    [
      "an unknown resource",
      { resources: { swap: "1g" } },
      [`services.app.resources.swap: unknown key "swap", expected one of: memory, cpus`],
    ],
    [
      "a log driver with a space",
      { logging: { driver: "json file" } },
      [
        `services.app.logging.driver: expected a log driver such as json-file, local or journald, got "json file"`,
      ],
    ],
    [
      "log options that are a list",
      { logging: { options: ["max-size=10m"] } },
      [
        `services.app.logging.options: expected an object such as { max-size: 10m }, got ["max-size=10m"]`,
      ],
    ],
    [
      "a log option value that is an object",
      { logging: { options: { "max-size": { mb: 10 } } } },
      [
        `services.app.logging.options.max-size: expected an option value as a string, number or boolean, got {"mb":10}`,
      ],
    ],
    ["a user with a space", { user: "app user" }, [`services.app.user: ${USER}, got "app user"`]],
    ["a user that is a list", { user: ["app"] }, [`services.app.user: ${USER}, got ["app"]`]],
    [
      "an unknown stop signal",
      { stopSignal: "SIGSTOPNOW" },
      [
        `services.app.stopSignal: expected a signal name such as SIGQUIT or SIGTERM, got "SIGSTOPNOW"`,
      ],
    ],
    [
      "a stop signal as a number",
      { stopSignal: 3 },
      ["services.app.stopSignal: expected a signal name such as SIGQUIT or SIGTERM, got 3"],
    ],
    [
      "a conductor label",
      { labels: { "conductor.service": "other" } },
      [
        `services.app.labels.conductor.service: expected a label not starting with "conductor.": conductor sets conductor.service, conductor.slot and conductor.port itself, and they cannot be overridden, got "conductor.service"`,
      ],
    ],
    [
      "a label value that is null",
      { labels: { team: null } },
      ["services.app.labels.team: expected a label value as a string, number or boolean, got null"],
    ],
    [
      "a command health check without a command",
      { healthCheck: { timeout: "1s" } },
      ["services.app.healthCheck.command: required"],
    ],
    [
      "a command health check with an empty command",
      { healthCheck: { command: [] } },
      [
        "services.app.healthCheck.command: expected a non-empty list of strings such as [bin/healthcheck], got []",
      ],
    ],
    [
      "a command health check given as a string",
      { healthCheck: { command: "bin/healthcheck" } },
      [
        `services.app.healthCheck.command: expected a non-empty list of strings such as [bin/healthcheck], got "bin/healthcheck"`,
      ],
    ],
    [
      "a command health check with a path",
      { healthCheck: { command: ["true"], path: "/health" } },
      [
        `services.app.healthCheck.path: unknown key "path", expected one of: command, timeout, interval, deadline (path is for http services: put it under http.healthCheck)`,
      ],
    ],
    [
      "a command health check timeout without a unit",
      { healthCheck: { command: ["true"], timeout: 2 } },
      [
        `services.app.healthCheck.timeout: expected a duration from 1ms to 24d such as "500ms", "2s" or "1m", got 2`,
      ],
    ],
  ])("rejects %s", (_, fields, expected) => {
    expect(service({ image: "a", ...(fields as object) })).toEqual(expected);
  });
});

describe("parseSize", () => {
  it.each<[string, number | undefined]>([
    ["512m", 512 * 2 ** 20],
    ["512MB", 512 * 2 ** 20],
    ["1g", 2 ** 30],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["64 k", 64 * 1024],
    ["512", undefined],
    ["-1m", undefined],
    ["m", undefined],
  ])("reads %j as %p bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
});
