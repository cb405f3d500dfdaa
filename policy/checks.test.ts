// Each policy's check on the services' facts, with its exact message.
import {
  type Check,
  DEFAULT_CONFIG,
  type Facts,
  fullRevision,
  globToRegExp,
  httpHealthCheckPath,
  httpMinContainers,
  plainCredentials,
  registryPasswordSecret,
} from "./checks";

const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const URN = "urn:pulumi:production::conductor::conductor:index:Service::web";

/** A compliant http service on two hosts; each test changes one thing. */
function web(overrides: Partial<Facts> = {}): Facts {
  return {
    urn: URN,
    service: "web",
    revision: SHA,
    http: { healthCheckPath: "/up" },
    hosts: ["app-1", "app-2"],
    containers: 2,
    env: { secret: true },
    ...overrides,
  };
}

const messages = (check: Check, facts: Facts, config = DEFAULT_CONFIG) =>
  check([facts], config).map((v) => {
    expect(v.urn).toBe(URN);
    return v.message;
  });

describe.each<[string, Check]>([
  ["fullRevision", fullRevision],
  ["httpHealthCheckPath", httpHealthCheckPath],
  ["httpMinContainers", httpMinContainers],
  ["plainCredentials", plainCredentials],
  ["registryPasswordSecret", registryPasswordSecret],
])("%s", (_name, check) => {
  it("passes a compliant service", () => {
    expect(messages(check, web())).toEqual([]);
  });
});

describe("fullRevision", () => {
  it.each(["279d903", SHA.toUpperCase(), `${SHA}0`])("refuses %s", (revision) => {
    expect(messages(fullRevision, web({ revision }))).toEqual([
      `service web deploys revision ${revision}, not a full 40-hex git SHA: a short one can come to name another commit (deploy with -c conductor:revision=$(git rev-parse HEAD))`,
    ]);
  });
});

describe("httpHealthCheckPath", () => {
  it("refuses an http service that leaves its path to the default", () => {
    expect(messages(httpHealthCheckPath, web({ http: {} }))).toEqual([
      "service web serves http without a health check path of its own: set conductor:services.web.http.healthCheck.path to what the app answers 2xx on when it is ready (the default, /health, is a guess)",
    ]);
  });

  it("leaves services without http alone", () => {
    expect(messages(httpHealthCheckPath, web({ http: undefined }))).toEqual([]);
  });
});

describe("httpMinContainers", () => {
  it("refuses one container", () => {
    expect(messages(httpMinContainers, web({ containers: 1, hosts: ["app-1"] }))).toEqual([
      "service web serves http from 1 container across its hosts (app-1), fewer than 2: one restart or crash takes it down (raise replicas or add hosts)",
    ]);
  });

  it("takes its minimum from the config", () => {
    const config = { ...DEFAULT_CONFIG, minContainers: 3 };
    expect(messages(httpMinContainers, web(), config)).toEqual([
      "service web serves http from 2 containers across its hosts (app-1, app-2), fewer than 3: one restart or crash takes it down (raise replicas or add hosts)",
    ]);
  });

  it("leaves services without http alone", () => {
    expect(messages(httpMinContainers, web({ http: undefined, containers: 0 }))).toEqual([]);
  });
});

describe("plainCredentials", () => {
  const plain = (...keys: string[]) => web({ env: { secret: false, keys } });

  it.each(["DB_PASSWORD", "password", "CLIENT_SECRET", "GITHUB_TOKEN", "API_KEY", "DATABASE_URL"])(
    "refuses a plain %s",
    (key) => {
      expect(messages(plainCredentials, plain("RAILS_ENV", key))).toEqual([
        `service web: env ${key} looks like a credential and is a plain value: set it with pulumi config set --secret --path 'conductor:services.web.env.${key}'`,
      ]);
    },
  );

  it.each(["RAILS_ENV", "KEYBOARD", "PORT", "DATABASE_URL_POOL"])("lets a plain %s be", (key) => {
    expect(messages(plainCredentials, plain(key))).toEqual([]);
  });

  it("takes its patterns from the config", () => {
    const config = { ...DEFAULT_CONFIG, credentialKeys: ["*_DSN"] };
    expect(messages(plainCredentials, plain("SENTRY_DSN", "API_KEY"), config)).toHaveLength(1);
  });
});

describe("registryPasswordSecret", () => {
  it("refuses a plain password", () => {
    const registry = { server: "registry.example.com", passwordSecret: false };
    expect(messages(registryPasswordSecret, web({ registry }))).toEqual([
      `service web pulls from registry.example.com with a plain password: set it with pulumi config set --secret --path 'conductor:registries["registry.example.com"].password'`,
    ]);
  });

  it("passes a secret one", () => {
    const registry = { server: "registry.example.com", passwordSecret: true };
    expect(messages(registryPasswordSecret, web({ registry }))).toEqual([]);
  });
});

describe("globToRegExp", () => {
  it.each([
    ["*_KEY", "API_KEY", true],
    ["*_KEY", "API_KEYS", false],
    ["A.B", "AxB", false],
    ["*SECRET*", "my_secret_thing", true],
  ])("%s on %s: %s", (glob, text, matches) => {
    expect(globToRegExp(glob).test(text)).toBe(matches);
  });
});
