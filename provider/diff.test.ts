// What each resource's diff tells the engine: replace (create a new one, then
// delete the old at the end) or update in place. Container replacements are the
// zero-downtime path; sites, releases and agents must never be replaced, since
// the late delete would remove the file an update just wrote.
import { agentHandler } from "./resources/agent";
import { containerHandler } from "./resources/container";
import { changedKeys } from "./resources/diff";
import { nginxSiteHandler } from "./resources/nginx-site";
import { releaseHandler } from "./resources/release";
import type { ResourceHandler } from "./resources/types";
import { secret } from "./secrets";

const CONNECTION = { host: "app-1", address: "10.0.1.11", local: false, user: "deploy", port: 22 };
const MOVED = { ...CONNECTION, address: "10.0.1.99" };

const CONTAINER = {
  connection: CONNECTION,
  serviceId: "shop_web_production",
  slot: 0,
  image: "registry.example.com/shop/web",
  revision: "279d9035886d4c0427549863c4c2101e4a63e041",
  command: ["bin/web"],
  env: { RAILS_ENV: "production" },
  http: {
    port: 3000,
    healthCheck: { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 },
  },
  stopTimeoutMs: 30000,
  // Outputs the engine passes back among the olds; not part of the spec.
  name: "shop_web_production-0-0123456789",
  hostPort: 20000,
};
const SITE = { connection: CONNECTION, serviceId: "shop_web_production", config: "server {}\n" };
const AGENT = { connection: CONNECTION, bundleSha256: "aaa" };
const RELEASE = {
  connection: CONNECTION,
  serviceId: "shop_web_production",
  containers: ["shop_web_production-0-0123456789"],
  supervise: true,
};

const replace = (key: string) => ({ changes: true, replaces: [key], deleteBeforeReplace: false });
const update = { changes: true, replaces: [], deleteBeforeReplace: false };
const none = { changes: false, replaces: [], deleteBeforeReplace: false };

type Row = [string, ResourceHandler, Record<string, unknown>, Record<string, unknown>, object];

describe.each<Row>([
  [
    "container serviceId",
    containerHandler,
    CONTAINER,
    { serviceId: "shop_web_staging" },
    replace("serviceId"),
  ],
  ["container slot", containerHandler, CONTAINER, { slot: 1 }, replace("slot")],
  [
    "container image",
    containerHandler,
    CONTAINER,
    { image: "registry.example.com/shop/api" },
    replace("image"),
  ],
  [
    "container revision",
    containerHandler,
    CONTAINER,
    { revision: "0".repeat(40) },
    replace("revision"),
  ],
  [
    "container command",
    containerHandler,
    CONTAINER,
    { command: ["bin/web", "-v"] },
    replace("command"),
  ],
  [
    "container command removed",
    containerHandler,
    CONTAINER,
    { command: undefined },
    replace("command"),
  ],
  [
    "container env value",
    containerHandler,
    CONTAINER,
    { env: { RAILS_ENV: "staging" } },
    replace("env"),
  ],
  [
    "container env added",
    containerHandler,
    CONTAINER,
    { env: { RAILS_ENV: "production", X: "" } },
    replace("env"),
  ],
  [
    "container secret env value",
    containerHandler,
    { ...CONTAINER, env: secret({ A: "1" }) },
    { env: secret({ A: "2" }) },
    replace("env"),
  ],
  [
    "container http port",
    containerHandler,
    CONTAINER,
    { http: { ...CONTAINER.http, port: 3001 } },
    replace("http"),
  ],
  [
    "container health path",
    containerHandler,
    CONTAINER,
    { http: { ...CONTAINER.http, healthCheck: { ...CONTAINER.http.healthCheck, path: "/up" } } },
    replace("http"),
  ],
  [
    "container stopTimeoutMs",
    containerHandler,
    CONTAINER,
    { stopTimeoutMs: 10000 },
    replace("stopTimeoutMs"),
  ],
  ...(
    [
      ["volumes", [{ source: "uploads", target: "/app/uploads", readOnly: false }]],
      ["resources", { memoryBytes: 536870912 }],
      ["logging", { driver: "local", options: {} }],
      ["user", "app"],
      ["stopSignal", "SIGQUIT"],
      ["labels", { team: "payments" }],
      ["healthCheck", { command: ["true"], timeoutMs: 1, intervalMs: 1, deadlineMs: 1 }],
    ] as const
  ).map(([field, value]): Row => [
    `container ${field} (issue 14), set where it was absent`,
    containerHandler,
    CONTAINER,
    { [field]: value },
    replace(field),
  ]),
  ["container connection", containerHandler, CONTAINER, { connection: MOVED }, update],
  [
    "container SSH key",
    containerHandler,
    CONTAINER,
    { connection: secret({ ...CONNECTION, privateKey: "k" }) },
    update,
  ],
  ["nginx site config", nginxSiteHandler, SITE, { config: "server { listen 81; }\n" }, update],
  ["nginx site connection", nginxSiteHandler, SITE, { connection: MOVED }, update],
  [
    "nginx site serviceId",
    nginxSiteHandler,
    SITE,
    { serviceId: "shop_api_production" },
    replace("serviceId"),
  ],
  ["agent bundleSha256", agentHandler, AGENT, { bundleSha256: "bbb" }, update],
  ["agent connection", agentHandler, AGENT, { connection: MOVED }, update],
  [
    "release containers",
    releaseHandler,
    RELEASE,
    { containers: ["shop_web_production-0-abcdefabcd"] },
    update,
  ],
  ["release supervise", releaseHandler, RELEASE, { supervise: false }, update],
  ...(["volumes", "resources", "user", "stopSignal", "labels"] as const).map((field): Row => [
    `release ${field}`,
    releaseHandler,
    RELEASE,
    { [field]: "changed" },
    update,
  ]),
  ["release connection", releaseHandler, RELEASE, { connection: MOVED }, update],
  [
    "release serviceId",
    releaseHandler,
    RELEASE,
    { serviceId: "shop_api_production" },
    replace("serviceId"),
  ],
])("a changed %s", (_, handler, olds, change, expected) => {
  it(`is ${expected === update ? "an update" : "a replacement"}, never delete-first`, () => {
    expect(handler.diff(olds, { ...olds, ...change })).toEqual(expected);
  });
});

describe("a container", () => {
  it("is replaced once, listing every changed spec key", () => {
    const news = {
      ...CONTAINER,
      image: "registry.example.com/shop/api",
      slot: 3,
      connection: MOVED,
    };
    expect(containerHandler.diff(CONTAINER, news)).toEqual({
      changes: true,
      replaces: ["slot", "image"],
      deleteBeforeReplace: false,
    });
  });

  it("ignores its own outputs (name, hostPort) among the olds", () => {
    const outputs = ["name", "hostPort"];
    const inputs = Object.fromEntries(
      Object.entries(CONTAINER).filter(([k]) => !outputs.includes(k)),
    );
    expect(containerHandler.diff(CONTAINER, inputs)).toEqual(none);
  });
});

describe.each<[string, ResourceHandler, Record<string, unknown>]>([
  ["container", containerHandler, CONTAINER],
  ["nginx site", nginxSiteHandler, SITE],
  ["agent", agentHandler, AGENT],
  ["release", releaseHandler, RELEASE],
])("an unchanged %s", (_, handler, inputs) => {
  it("has no changes", () => {
    // A JSON copy, not structuredClone: that makes arrays of another realm under jest.
    expect(handler.diff(inputs, JSON.parse(JSON.stringify(inputs)))).toEqual(none);
  });

  // The engine wraps values from secret config; a newly secret value is the same value.
  it("has no changes when only the secret wrapping differs", () => {
    const wrapped = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, secret(v)]));
    expect(handler.diff(inputs, wrapped)).toEqual(none);
    expect(handler.diff(wrapped, inputs)).toEqual(none);
  });
});

describe("changedKeys", () => {
  it("compares revealed values deeply, and only the keys asked", () => {
    const olds = { env: { A: secret("1") }, argv: ["a", "b"], other: 1 };
    const news = { env: secret({ A: "1" }), argv: ["a", "c"], other: 2 };
    expect(changedKeys(olds, news, ["env", "argv"])).toEqual(["argv"]);
  });

  it("counts a key present on one side only as changed", () => {
    expect(changedKeys({ command: ["x"] }, {}, ["command"])).toEqual(["command"]);
  });
});
