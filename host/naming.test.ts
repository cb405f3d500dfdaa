// Container names on a host: a fingerprint of the whole spec, keyed by a
// per-host salt in the state store (a temp dir here).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import type { ContainerSpec } from "../protocol/requests";
import { canonicalJson, containerName as nameWithSalt } from "./naming";
import { HostStore } from "./store";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-naming-"));
const stateDir = path.join(tmp, "state");
const store = new HostStore(stateDir);
const records = {
  canonicalJson,
  // What `container up` does: the name under this host's salt, made on first use.
  containerName: (spec: ContainerSpec) => nameWithSalt(spec, store.salt()),
};

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SPEC: ContainerSpec = {
  serviceId: "shop_web_production",
  slot: 0,
  image: "registry.example.com/shop/web",
  revision: "279d9035886d4c0427549863c4c2101e4a63e041",
  command: ["bin/web", "--port", "3000"],
  env: { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db/app" },
  http: {
    port: 3000,
    healthCheck: { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 },
  },
  stopTimeoutMs: 30000,
};

/** The same value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  }
  return value;
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(
      records.canonicalJson({ b: [{ d: 1, c: undefined, a: "x" }], a: null, z: undefined }),
    ).toBe('{"a":null,"b":[{"a":"x","d":1}]}');
  });

  it("gives the same text whatever the key order, and that text is the same JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = records.canonicalJson(value);
        expect(records.canonicalJson(reversedKeys(value))).toBe(text);
        expect(JSON.parse(text)).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 200 },
    );
  });

  // An undefined array item must not vanish from the text ("[1,]" is not JSON).
  it("writes an undefined array item as null, like JSON.stringify", () => {
    expect(records.canonicalJson([1, undefined])).toBe("[1,null]");
  });
});

describe("containerName", () => {
  it("is the service id, the slot and 10 hex digits", () => {
    expect(records.containerName({ ...SPEC, slot: 3 })).toMatch(
      /^shop_web_production-3-[0-9a-f]{10}$/,
    );
  });

  it("is the same for the same spec, whatever its key order", () => {
    const name = records.containerName(SPEC);
    expect(records.containerName(structuredClone(SPEC))).toBe(name);
    expect(records.containerName(reversedKeys(SPEC) as ContainerSpec)).toBe(name);
  });

  it.each<[string, Partial<ContainerSpec>]>([
    ["another serviceId", { serviceId: "shop_web_staging" }],
    ["another slot", { slot: 1 }],
    ["another image", { image: "registry.example.com/shop/api" }],
    ["another revision", { revision: "0".repeat(40) }],
    ["another command", { command: ["bin/web", "--port", "3001"] }],
    ["no command", { command: undefined }],
    ["another env value", { env: { ...SPEC.env, DATABASE_URL: "postgres://app:hunter3@db/app" } }],
    ["another env name", { env: { RAILS_ENV: "production", DATABASE_URI: SPEC.env.DATABASE_URL } }],
    ["an added env entry", { env: { ...SPEC.env, X: "" } }],
    ["another http port", { http: { ...SPEC.http!, port: 3001 } }],
    [
      "another health path",
      { http: { ...SPEC.http!, healthCheck: { ...SPEC.http!.healthCheck, path: "/up" } } },
    ],
    ["no http", { http: undefined }],
    ["another stopTimeoutMs", { stopTimeoutMs: 10000 }],
  ])("is new for %s", (_, change) => {
    expect(records.containerName({ ...SPEC, ...change })).not.toBe(records.containerName(SPEC));
  });

  it("keeps a root-only salt of 32 bytes in the state dir", () => {
    records.containerName(SPEC);
    const salt = path.join(stateDir, "salt");
    expect(fs.statSync(salt).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(salt)).toHaveLength(32);
  });

  // The salt is what keeps a name from confirming a guessed env value.
  it("depends on the host's salt, and reuses the salt it wrote", () => {
    const salt = path.join(stateDir, "salt");
    const name = records.containerName(SPEC);
    const saved = fs.readFileSync(salt);
    expect(records.containerName(SPEC)).toBe(name);
    expect(fs.readFileSync(salt)).toEqual(saved);

    fs.rmSync(salt);
    expect(records.containerName(SPEC)).not.toBe(name);
    fs.writeFileSync(salt, saved, { mode: 0o600 });
    expect(records.containerName(SPEC)).toBe(name);
  });
});
