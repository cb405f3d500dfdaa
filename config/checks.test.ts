import {
  ensureCommandCheckWithoutHttp,
  ensureHostsExist,
  ensureIdsUnique,
  ensureImageHasNoTag,
  ensureImageIsRepository,
  ensureListenUnique,
  ensureLocalHostHasNoSsh,
  ensureRevisionIsHex,
  ensureRevisionIsSet,
  ensureServiceHasHosts,
  ensureServiceHostsUnique,
  ensureVolumeTargetsUnique,
  splitImage,
} from "./checks";
import type { Check } from "./checks";
import { IMAGE, rawInput, withApp } from "./fixtures";
import { formatPath } from "./issues";
import type { RawFleetInput } from "./model";
import { parseFleet } from "./parse";
import type { Draft } from "./parse";

/** One check alone on the draft of `input`, as `path: message` lines. */
function run(check: Check, input: RawFleetInput): string[] {
  return check(parseFleet(input).draft).map((i) => `${formatPath(i.path)}: ${i.message}`);
}

const nginxApp = (name: string, hosts: string[], nginx: object) => ({
  [name]: { image: IMAGE, hosts, http: { port: 3000, nginx } },
});

describe.each<[string, Check, RawFleetInput, string[]]>([
  [
    "ensureRevisionIsSet",
    ensureRevisionIsSet,
    rawInput({
      revision: undefined,
      services: {
        app: { image: IMAGE },
        worker: { image: IMAGE },
        cron: { image: IMAGE, revision: "abc1234" },
      },
    }),
    ["conductor:revision: required, as services app, worker set no revision of their own"],
  ],
  [
    "ensureRevisionIsHex",
    ensureRevisionIsHex,
    withApp({ revision: "v1.2.3" }, { revision: "279d903x" }),
    [
      `conductor:revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "279d903x"`,
      `conductor:services.app.revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "v1.2.3"`,
    ],
  ],
  [
    "ensureImageHasNoTag",
    ensureImageHasNoTag,
    withApp({ image: "registry.example.com:5000/shop/app:2024-01" }),
    [
      `conductor:services.app.image: expected a repository without a tag (conductor deploys <image>:<revision>), got "registry.example.com:5000/shop/app:2024-01"`,
    ],
  ],
  [
    "ensureImageIsRepository",
    ensureImageIsRepository,
    withApp({ image: "shop//app" }),
    [
      `conductor:services.app.image: expected a repository such as registry.example.com/team/app (lowercase), got "shop//app"`,
    ],
  ],
  [
    "ensureLocalHostHasNoSsh",
    ensureLocalHostHasNoSsh,
    rawInput({ hosts: { dev: { address: "local", port: 2222 } } }),
    [
      "conductor:hosts.dev.port: a local host is reached without SSH, so it takes no port, got 2222",
    ],
  ],
  [
    "ensureHostsExist",
    ensureHostsExist,
    withApp({ hosts: ["app-1", "app-3"] }),
    [`conductor:services.app.hosts[1]: unknown host "app-3", known hosts: app-1, app-2`],
  ],
  [
    "ensureServiceHasHosts",
    ensureServiceHasHosts,
    withApp({ hosts: [] }),
    ["conductor:services.app.hosts: expected at least one host, got []"],
  ],
  [
    "ensureServiceHostsUnique",
    ensureServiceHostsUnique,
    withApp({ hosts: ["app-2", "app-1", "app-2"] }),
    [`conductor:services.app.hosts[2]: duplicate of hosts[0], got "app-2"`],
  ],
  [
    "ensureListenUnique",
    ensureListenUnique,
    rawInput({
      services: {
        ...nginxApp("api", ["app-1", "app-2"], { serverName: "api.example.com" }),
        ...nginxApp("admin", ["app-2"], { serverName: "admin.example.com" }),
        // Differs only in case: nginx matches server names case-insensitively.
        ...nginxApp("api-v2", ["app-1", "app-2"], { listen: 80, serverName: "API.example.com" }),
      },
    }),
    [
      `conductor:services.api-v2.http.nginx: listen 80 and serverName "API.example.com" are already used by service api on hosts app-1, app-2`,
    ],
  ],
  [
    "ensureCommandCheckWithoutHttp",
    ensureCommandCheckWithoutHttp,
    withApp({ http: { port: 3000 }, healthCheck: { command: ["bin/healthcheck"] } }),
    [
      "conductor:services.app.healthCheck: a service with http is checked over HTTP: set http.healthCheck.path, or remove http to check with a command",
    ],
  ],
  [
    "ensureVolumeTargetsUnique",
    ensureVolumeTargetsUnique,
    withApp({ volumes: ["uploads:/data", "/srv/data:/srv", "/srv/other:/data:ro"] }),
    [`conductor:services.app.volumes[2]: mounts on "/data", as volumes[0] does already`],
  ],
])("%s", (_, check, input, expected) => {
  it("reports the exact message", () => {
    expect(run(check, input)).toEqual(expected);
  });

  it("reports nothing on the valid base config", () => {
    expect(run(check, rawInput())).toEqual([]);
  });
});

describe("ensureListenUnique", () => {
  it.each<[string, Record<string, unknown>]>([
    [
      "same listen and name on different hosts",
      { ...nginxApp("a", ["app-1"], {}), ...nginxApp("b", ["app-2"], {}) },
    ],
    [
      "same name on different ports",
      {
        ...nginxApp("a", ["app-1"], { listen: 80 }),
        ...nginxApp("b", ["app-1"], { listen: 8080 }),
      },
    ],
  ])("allows %s", (_, services) => {
    expect(run(ensureListenUnique, rawInput({ services }))).toEqual([]);
  });

  it("hides values under a secret conductor:services", () => {
    const services = { ...nginxApp("a", ["app-1"], {}), ...nginxApp("b", ["app-1"], {}) };
    const input = rawInput({ services, secretKeys: new Set(["conductor:services"]) });
    expect(run(ensureListenUnique, input)).toEqual([
      "conductor:services.b.http.nginx: listen [secret] and serverName [secret] are already used by service a on host app-1",
    ]);
  });
});

describe("ensureIdsUnique", () => {
  // Distinct keys cannot give equal ids under today's name rules (no "_" in names), so this
  // builds the draft by hand: it proves the check works, not that a collision can happen.
  it("reports the second service with a taken id", () => {
    const { draft } = parseFleet(rawInput());
    const twice: Draft = { ...draft, services: [draft.services[0], draft.services[0]] };
    expect(ensureIdsUnique(twice).map((i) => `${formatPath(i.path)}: ${i.message}`)).toEqual([
      "conductor:services.app: id shop_app_production is already used by service app",
    ]);
  });

  it("reports nothing on the valid base config", () => {
    expect(run(ensureIdsUnique, rawInput())).toEqual([]);
  });
});

describe("splitImage", () => {
  it.each([
    ["registry.example.com/team/app", { repository: "registry.example.com/team/app" }],
    ["registry.example.com:5000/app", { repository: "registry.example.com:5000/app" }],
    [
      "registry.example.com:5000/app:v1",
      { repository: "registry.example.com:5000/app", tag: "v1" },
    ],
    ["app@sha256:abc", { repository: "app", digest: "sha256:abc" }],
    ["app:v1@sha256:abc", { repository: "app", tag: "v1", digest: "sha256:abc" }],
  ])("%s", (image, expected) => {
    expect(splitImage(image)).toEqual(expected);
  });
});
