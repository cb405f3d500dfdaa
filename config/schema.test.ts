import { parseAt } from "./issues";
import { DEFAULTS, hostSchema, parseDuration, serviceSchema } from "./schema";

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
