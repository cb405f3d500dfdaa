// Each handler's create, update and delete against a fake host: the argv run
// there, the request on stdin, the id and outputs returned (secrets still
// wrapped), and the errors for malformed inputs, state and answers. Not proven
// here: what the host command does with the requests (host/ and e2e tests).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection } from "../protocol/connection";
import { FleetProvider } from "./provider";
import { agentHandler, INSTALL_SCRIPT } from "./resources/agent";
import { containerHandler } from "./resources/container";
import { cronFileHandler } from "./resources/cron-file";
import { nginxSiteHandler } from "./resources/nginx-site";
import { releaseHandler } from "./resources/release";
import type { ResourceHandler } from "./resources/types";
import { type Call, scriptedHost } from "./fakes.testutil";
import { secret } from "./secrets";
import type { RunOnHost } from "./transport";

const CONDUCTOR = "/usr/local/bin/conductor";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
const APP_1: Connection = {
  host: "app-1",
  address: "10.0.1.11",
  local: false,
  user: "deploy",
  port: 22,
};
const WITH_KEY: Connection = { ...APP_1, privateKey: KEY };
const MOVED: Connection = { ...APP_1, address: "10.0.1.99" };
const SERVICE_ID = "shop_web_production";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const IMAGE = "registry.example.com/shop/web";
const NAME = "shop_web_production-0-0123456789";
const ENV = { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db/app" };
const HEALTH = { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 };

/** The one call the handler made, its request parsed. */
function onlyCall(calls: Call[]): { conn: Connection; argv: string[]; request: unknown } {
  expect(calls).toHaveLength(1);
  const [{ conn, argv, input }] = calls;
  return { conn, argv, request: JSON.parse(input) };
}

/** `object` without `keys`, as the engine sends an input it has no value for. */
function without(object: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => !keys.includes(k)));
}

const neverRuns: RunOnHost = async (_conn, argv) => {
  throw new Error(`nothing should run, but ${argv.join(" ")} did`);
};

const CONTAINER_SPEC = {
  serviceId: SERVICE_ID,
  slot: 0,
  image: IMAGE,
  revision: SHA,
  command: ["bin/web", "--port", "3000"],
  env: ENV,
  http: { port: 3000, healthCheck: HEALTH },
  stopTimeoutMs: 30000,
};
/** As the engine sends them with secret config and an SSH key. */
const CONTAINER_INPUTS = { ...CONTAINER_SPEC, connection: secret(WITH_KEY), env: secret(ENV) };

describe("a container", () => {
  it("is created by `conductor container up` with its spec, secrets revealed", async () => {
    const host = scriptedHost(`pulling\n${JSON.stringify({ name: NAME, hostPort: 20001 })}\n`);
    const result = await containerHandler.create(CONTAINER_INPUTS, host.run);
    const { conn, argv, request } = onlyCall(host.calls);
    expect(conn).toStrictEqual(WITH_KEY);
    expect(argv).toStrictEqual([CONDUCTOR, "container", "up"]);
    expect(request).toStrictEqual(CONTAINER_SPEC);
    expect(result).toStrictEqual({
      id: NAME,
      outs: { ...CONTAINER_INPUTS, name: NAME, hostPort: 20001 },
    });
  });

  it("stores no host port when it serves no http", async () => {
    const host = scriptedHost(JSON.stringify({ name: NAME }));
    const worker = without(CONTAINER_INPUTS, "http");
    const result = await containerHandler.create(worker, host.run);
    expect(onlyCall(host.calls).request).not.toHaveProperty("http");
    expect(result.outs).toStrictEqual({ ...worker, name: NAME, hostPort: null });
  });

  it("sends an empty env where the engine sent none", async () => {
    const host = scriptedHost(JSON.stringify({ name: NAME }));
    await containerHandler.create(without(CONTAINER_INPUTS, "env"), host.run);
    expect(onlyCall(host.calls).request).toStrictEqual({ ...CONTAINER_SPEC, env: {} });
  });

  it("updates only the stored connection, running nothing", async () => {
    const state = { ...CONTAINER_INPUTS, name: NAME, hostPort: 20001 };
    const news = { ...CONTAINER_INPUTS, connection: secret(MOVED) };
    await expect(containerHandler.update(state, news, neverRuns)).resolves.toStrictEqual({
      outs: { ...state, connection: secret(MOVED) },
    });
  });

  it("is deleted by `conductor container down` over the stored connection", async () => {
    const state = { ...CONTAINER_INPUTS, connection: MOVED, name: NAME, hostPort: 20001 };
    const host = scriptedHost("{}");
    await containerHandler.delete(state, host.run);
    const { conn, argv, request } = onlyCall(host.calls);
    expect(conn).toStrictEqual(MOVED);
    expect(argv).toStrictEqual([CONDUCTOR, "container", "down"]);
    expect(request).toStrictEqual({ serviceId: SERVICE_ID, name: NAME, stopTimeoutMs: 30000 });
  });

  it("is deleted without a host command when a release of this deploy did not keep it, on that host only", async () => {
    const state = (conn: Connection, name: string) => ({
      ...CONTAINER_INPUTS,
      connection: conn,
      name,
    });
    const OLD = "shop_web_production-0-old0000000";
    // The release keeps NAME; the old container of the service is gone with it.
    await releaseHandler.update(RELEASE, { ...RELEASE, connection: MOVED }, scriptedHost("{}").run);
    await containerHandler.delete(state(MOVED, OLD), neverRuns);
    // Another host's container of the same name still gets its command.
    const other = scriptedHost("{}");
    await containerHandler.delete(state(APP_1, OLD), other.run);
    expect(onlyCall(other.calls).argv).toStrictEqual([CONDUCTOR, "container", "down"]);
    // So does one the release kept (a later delete of it is a real one).
    const keptOne = scriptedHost("{}");
    await containerHandler.delete(state(MOVED, NAME), keptOne.run);
    expect(onlyCall(keptOne.calls).argv).toStrictEqual([CONDUCTOR, "container", "down"]);
  });

  it("is deleted by `conductor container down` when the release failed", async () => {
    const failing: RunOnHost = async () => {
      throw new Error("host app-1: nginx on this host still sends shop_web_production to ...");
    };
    const conn: Connection = { ...APP_1, address: "10.0.1.77" };
    await expect(
      releaseHandler.update(RELEASE, { ...RELEASE, connection: conn }, failing),
    ).rejects.toThrow();
    const host = scriptedHost("{}");
    await containerHandler.delete(
      { ...CONTAINER_INPUTS, connection: conn, name: "shop_web_production-0-old0000000" },
      host.run,
    );
    expect(onlyCall(host.calls).argv).toStrictEqual([CONDUCTOR, "container", "down"]);
  });

  it("deletes with the connection an update stored", async () => {
    const created = { ...CONTAINER_INPUTS, name: NAME, hostPort: 20001 };
    const { outs } = await containerHandler.update(
      created,
      { ...CONTAINER_INPUTS, connection: MOVED },
      neverRuns,
    );
    const host = scriptedHost("{}");
    await containerHandler.delete(outs!, host.run);
    expect(onlyCall(host.calls).conn).toStrictEqual(MOVED);
  });
});

describe("malformed inputs and state", () => {
  const state = { ...CONTAINER_INPUTS, name: NAME, hostPort: 20001 };

  it.each<[string, Record<string, unknown>, string]>([
    [
      "a stop timeout that is not a number",
      { ...state, stopTimeoutMs: "30000" },
      "fleet:index:Container: invalid state: stopTimeoutMs: Invalid input: expected number, received string",
    ],
    [
      "no stop timeout",
      { ...state, stopTimeoutMs: undefined },
      "fleet:index:Container: invalid state: stopTimeoutMs: Invalid input: expected number, received undefined",
    ],
    [
      "no container name",
      { ...state, name: undefined },
      "fleet:index:Container: invalid state: name: Invalid input: expected string, received undefined",
    ],
    [
      "a connection without a port",
      { ...state, connection: secret({ ...WITH_KEY, port: undefined }) },
      "fleet:index:Container: invalid state: connection.port: Invalid input: expected number, received undefined",
    ],
  ])("refuses to delete with %s, naming the field", async (_, bad, message) => {
    await expect(containerHandler.delete(bad, neverRuns)).rejects.toThrow(message);
  });

  it("ignores keys of the state it does not read (an older provider's)", async () => {
    const host = scriptedHost("{}");
    await containerHandler.delete({ ...state, retired: 1 }, host.run);
    expect(host.calls).toHaveLength(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "an unknown input",
      { ...CONTAINER_INPUTS, privileged: true },
      'fleet:index:Container: invalid inputs: (the whole value): Unrecognized key: "privileged"',
    ],
    [
      "a slot that is not a number",
      { ...CONTAINER_INPUTS, slot: "0" },
      "fleet:index:Container: invalid inputs: slot: Invalid input: expected number, received string",
    ],
    [
      "a command that is not a list",
      { ...CONTAINER_INPUTS, command: "bin/web" },
      "fleet:index:Container: invalid inputs: command: Invalid input: expected array, received string",
    ],
  ])("refuses to create with %s, naming the field", async (_, bad, message) => {
    await expect(containerHandler.create(bad, neverRuns)).rejects.toThrow(message);
  });

  it("never shows a value, secret or not", async () => {
    const bad = { ...CONTAINER_INPUTS, env: secret({ "NOT A NAME": "hunter2" }), image: 7 };
    const error = await containerHandler.create(bad, neverRuns).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^fleet:index:Container: invalid inputs: /);
    expect(error?.message).toContain("image: ");
    expect(error?.message).toContain("env.NOT A NAME: ");
    expect(error?.message).not.toContain("hunter2");
  });

  it("refuses a container update whose connection is malformed", async () => {
    const news = { ...CONTAINER_INPUTS, connection: { ...APP_1, local: "no" } };
    await expect(containerHandler.update(state, news, neverRuns)).rejects.toThrow(
      "fleet:index:Container: invalid inputs: connection.local: Invalid input: expected boolean, received string",
    );
  });

  it.each<[string, ResourceHandler, string]>([
    ["nginx site", nginxSiteHandler, "fleet:index:NginxSite"],
    ["cron file", cronFileHandler, "fleet:index:CronFile"],
    ["release", releaseHandler, "fleet:index:Release"],
  ])("names the %s's type", async (_, handler, type) => {
    await expect(handler.delete({ connection: APP_1 }, neverRuns)).rejects.toThrow(
      `${type}: invalid state: serviceId: Invalid input: expected string, received undefined`,
    );
    await expect(handler.create({ serviceId: SERVICE_ID }, neverRuns)).rejects.toThrow(
      `${type}: invalid inputs: `,
    );
  });
});

describe("the host's answer", () => {
  it.each<[string, string, string]>([
    ["nothing", "", "host app-1: conductor container up answered nothing"],
    ["only whitespace", "\n\n", "host app-1: conductor container up answered nothing"],
    [
      "not JSON",
      "pulled\nstarted",
      "host app-1: conductor container up answered something that is not JSON",
    ],
    [
      "JSON of the wrong shape",
      JSON.stringify({ name: 7 }),
      "host app-1: unexpected answer from conductor container up: name: Invalid input: expected string, received number",
    ],
    [
      "a key the protocol does not know",
      JSON.stringify({ name: NAME, port: 1 }),
      'host app-1: unexpected answer from conductor container up: (the whole value): Unrecognized key: "port"',
    ],
  ])("fails naming the host and command when it is %s", async (_, stdout, message) => {
    await expect(
      containerHandler.create(CONTAINER_INPUTS, scriptedHost(stdout).run),
    ).rejects.toThrow(message);
  });

  it("must be {} from commands that only report success", async () => {
    const state = { connection: APP_1, serviceId: SERVICE_ID };
    await expect(nginxSiteHandler.delete(state, scriptedHost('{"ok":true}').run)).rejects.toThrow(
      'host app-1: unexpected answer from conductor nginx remove: (the whole value): Unrecognized key: "ok"',
    );
  });
});

const SITE = { connection: secret(WITH_KEY), serviceId: SERVICE_ID, config: "server {}\n" };
const CRON = {
  connection: APP_1,
  serviceId: SERVICE_ID,
  image: IMAGE,
  revision: SHA,
  env: secret(ENV),
  generate: ["bin/generate-cron"],
  allowOverlap: false,
};
const RELEASE = {
  connection: APP_1,
  serviceId: SERVICE_ID,
  image: IMAGE,
  revision: SHA,
  command: ["bin/web"],
  env: secret(ENV),
  containers: [NAME],
  supervise: true,
};

/** The SHA-256 of the cron file the fake host says it wrote. */
const CRON_SHA = "c".repeat(64);

describe.each<[string, ResourceHandler, Record<string, unknown>, string, string[], object, string]>(
  [
    [
      "an nginx site",
      nginxSiteHandler,
      SITE,
      "nginx apply",
      ["{}"],
      { serviceId: SERVICE_ID, config: "server {}\n" },
      "nginx remove",
    ],
    [
      "a cron file",
      cronFileHandler,
      CRON,
      "cron install",
      [JSON.stringify({ jobs: 2, sha256: CRON_SHA })],
      { ...CRON, connection: undefined, env: ENV },
      "cron remove",
    ],
    [
      "a release",
      releaseHandler,
      RELEASE,
      "release apply",
      ["{}"],
      { ...RELEASE, connection: undefined, env: ENV },
      "release remove",
    ],
  ],
)("%s", (_, handler, inputs, apply, answers, request, remove) => {
  const plain = JSON.parse(JSON.stringify(request)) as object;
  const outputs = apply === "cron install" ? { jobs: 2, fileSha256: CRON_SHA } : {};

  it(`is created by \`conductor ${apply}\`, named by its service id`, async () => {
    const host = scriptedHost(...answers);
    const result = await handler.create(inputs, host.run);
    const call = onlyCall(host.calls);
    expect(call.argv).toStrictEqual([CONDUCTOR, ...apply.split(" ")]);
    expect(call.request).toStrictEqual(plain);
    expect(result).toStrictEqual({ id: SERVICE_ID, outs: { ...inputs, ...outputs } });
  });

  it(`is updated by \`conductor ${apply}\` with the new inputs`, async () => {
    const news = { ...inputs, connection: MOVED };
    const host = scriptedHost(...answers);
    const result = await handler.update({ ...inputs, ...outputs }, news, host.run);
    const call = onlyCall(host.calls);
    expect(call.conn).toStrictEqual(MOVED);
    expect(call.argv).toStrictEqual([CONDUCTOR, ...apply.split(" ")]);
    expect(call.request).toStrictEqual(plain);
    expect(result).toStrictEqual({ outs: { ...news, ...outputs } });
  });

  it(`is deleted by \`conductor ${remove}\` over the stored connection`, async () => {
    const host = scriptedHost("{}");
    await handler.delete({ ...inputs, ...outputs, connection: MOVED }, host.run);
    const call = onlyCall(host.calls);
    expect(call.conn).toStrictEqual(MOVED);
    expect(call.argv).toStrictEqual([CONDUCTOR, ...remove.split(" ")]);
    expect(call.request).toStrictEqual({ serviceId: SERVICE_ID });
  });
});

describe("where the engine sent nothing", () => {
  it("a release has no command and no env, and is supervised", async () => {
    const host = scriptedHost("{}");
    await releaseHandler.create(without(RELEASE, "command", "env", "supervise"), host.run);
    expect(onlyCall(host.calls).request).toStrictEqual({
      serviceId: SERVICE_ID,
      image: IMAGE,
      revision: SHA,
      env: {},
      containers: [NAME],
      supervise: true,
    });
  });

  it("a cron file has no env and lets no job overlap", async () => {
    const host = scriptedHost(JSON.stringify({ jobs: 0, sha256: CRON_SHA }));
    await cronFileHandler.create(without(CRON, "env", "allowOverlap"), host.run);
    expect(onlyCall(host.calls).request).toMatchObject({
      env: {},
      allowOverlap: false,
    });
  });
});

describe("an agent", () => {
  let dir: string;
  let bundlePath: string;
  const code = "#!/usr/bin/env node\nconsole.log('conductor');\n";
  const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
  let inputs: Record<string, unknown>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-agent-test-"));
    bundlePath = path.join(dir, "conductor-host.js");
    fs.writeFileSync(bundlePath, code);
    inputs = { connection: secret(WITH_KEY), bundlePath, bundleSha256: sha256(code) };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is created by the install script, which gets the bundle on stdin", async () => {
    const host = scriptedHost("");
    const result = await agentHandler.create(inputs, host.run);
    expect(host.calls).toStrictEqual([
      { conn: WITH_KEY, argv: ["sh", "-c", INSTALL_SCRIPT], input: code },
    ]);
    expect(result).toStrictEqual({ id: "app-1", outs: inputs });
  });

  it("is updated by the same install", async () => {
    const host = scriptedHost("");
    const news = { ...inputs, connection: MOVED };
    await expect(agentHandler.update(inputs, news, host.run)).resolves.toStrictEqual({
      outs: news,
    });
    expect(host.calls).toStrictEqual([
      { conn: MOVED, argv: ["sh", "-c", INSTALL_SCRIPT], input: code },
    ]);
  });

  // The script's own printf, run by sh into a temp file. Not proven here: that
  // cron reads the file (test/e2e/supervise.test.ts), nor the systemd branch.
  it("has cron start the supervisor at boot and every minute where no systemd runs", () => {
    const printf = /printf '%s\\n' [^]*?> \/etc\/cron\.d\/conductor-supervise\.tmp/.exec(
      INSTALL_SCRIPT,
    );
    const file = path.join(dir, "conductor-supervise");
    execFileSync("sh", ["-c", printf![0].replace(/> \S+$/, `> ${file}`)]);
    expect(fs.readFileSync(file, "utf8")).toBe(
      [
        "# Installed by conductor: starts conductor supervise unless it runs (no systemd here).",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `@reboot root ${CONDUCTOR} supervise --background >/dev/null 2>&1`,
        `* * * * * root ${CONDUCTOR} supervise --background >/dev/null 2>&1`,
        "",
      ].join("\n"),
    );
  });

  it("refuses a bundle that changed since the program hashed it", async () => {
    fs.writeFileSync(bundlePath, `${code}// rebuilt\n`);
    await expect(agentHandler.create(inputs, neverRuns)).rejects.toThrow(
      `${bundlePath} changed while deploying; run the deploy again`,
    );
    await expect(agentHandler.update(inputs, inputs, neverRuns)).rejects.toThrow("changed");
  });

  it("refuses a hash that is not a SHA-256", async () => {
    await expect(
      agentHandler.create({ ...inputs, bundleSha256: "bundle-sha" }, neverRuns),
    ).rejects.toThrow("fleet:index:Agent: invalid inputs: bundleSha256: expected a SHA-256 in hex");
  });

  it("leaves the command in place when deleted", async () => {
    await expect(agentHandler.delete(inputs, neverRuns)).resolves.toBeUndefined();
  });
});

describe("FleetProvider", () => {
  const urn =
    "urn:pulumi:dev::conductor::conductor:index:Service$fleet:index:Container::web-app-1-0";

  it("hands its transport to the handlers", async () => {
    const host = scriptedHost(JSON.stringify({ name: NAME, hostPort: 20001 }), "{}");
    const provider = new FleetProvider(host.run);
    const { outs } = await provider.create(urn, CONTAINER_INPUTS);
    await provider.delete(NAME, urn, outs);
    expect(host.calls.map((c) => c.argv)).toStrictEqual([
      [CONDUCTOR, "container", "up"],
      [CONDUCTOR, "container", "down"],
    ]);
  });
});
