// conductor:registries and the namespace's keys: what is accepted, what each
// mistake says (with its path), and which registry an image is pulled from.
import { registryOf } from "./checks";
import { rawInput, withApp } from "./fixtures";
import { loadFleet } from "./load";
import type { RawFleetInput } from "./model";

const secretRegistries = new Set(["conductor:registries"]);
const ENTRY = { username: "deploy", password: "s3cret" };
const KNOWN = "app, revision, hosts, services, registries, sshPrivateKey";

function problems(input: RawFleetInput): string[] {
  const result = loadFleet(input);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.issues.map((i) => `${i.path}: ${i.message}`);
}

function fleetOf(input: RawFleetInput) {
  const result = loadFleet(input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.fleet;
}

describe("registryOf, as Docker decides it", () => {
  it.each([
    ["registry.example.com/acme/app", "registry.example.com"],
    ["127.0.0.1:5000/acme/app", "127.0.0.1:5000"],
    ["registry:5000/conductor/hello", "registry:5000"],
    ["localhost/app", "localhost"],
    ["Registry/app", "Registry"],
    ["acme/app", "docker.io"],
    ["app", "docker.io"],
    ["index.docker.io/library/app", "docker.io"],
  ])("%s is pulled from %s", (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });
});

describe("conductor:registries", () => {
  it("gives each service the registry of its image when there is an entry", () => {
    const fleet = fleetOf(
      rawInput({
        services: {
          app: { image: "registry.example.com/shop/app" },
          hub: { image: "shop/tools" },
        },
        registries: { "registry.example.com": ENTRY },
        secretKeys: secretRegistries,
      }),
    );
    expect(fleet.registries).toEqual([{ server: "registry.example.com", ...ENTRY }]);
    expect(fleet.services.map((s) => [s.name, s.registry])).toEqual([
      ["app", "registry.example.com"],
      ["hub", "docker.io"],
    ]);
  });

  it("reads index.docker.io as docker.io", () => {
    const fleet = fleetOf(
      withApp(
        { image: "shop/app" },
        {
          registries: { "index.docker.io": ENTRY },
          secretKeys: secretRegistries,
        },
      ),
    );
    expect(fleet.services[0].registry).toBe("docker.io");
  });

  it("is optional: no entry, anonymous pulls", () => {
    expect(fleetOf(rawInput()).registries).toEqual([]);
  });

  it.each<[string, Partial<RawFleetInput>, string[]]>([
    [
      "an entry without a password",
      {
        registries: { "registry.example.com": { username: "deploy" } },
        secretKeys: secretRegistries,
      },
      ['conductor:registries["registry.example.com"].password: required'],
    ],
    [
      "an entry without a username",
      { registries: { "registry.example.com": { password: "x" } }, secretKeys: secretRegistries },
      ['conductor:registries["registry.example.com"].username: required'],
    ],
    [
      "a password that is not secret",
      { registries: { "registry.example.com": ENTRY } },
      [
        `conductor:registries["registry.example.com"].password: expected a secret (set it with pulumi config set --secret --path 'conductor:registries["registry.example.com"].password'), got a plain value`,
      ],
    ],
    [
      "an unknown key in an entry",
      {
        registries: { "registry.example.com": { ...ENTRY, email: "ops@example.com" } },
        secretKeys: secretRegistries,
      },
      [
        'conductor:registries["registry.example.com"].email: unknown key "email", expected one of: username, password',
      ],
    ],
    [
      "a server that is a URL",
      { registries: { "https://registry.example.com/": ENTRY }, secretKeys: secretRegistries },
      [
        'conductor:registries["https://registry.example.com/"]: expected a registry server such as registry.example.com or 10.0.0.5:5000, got "https://registry.example.com/"',
      ],
    ],
    [
      "a list instead of an object",
      { registries: ["registry.example.com"], secretKeys: secretRegistries },
      [
        "conductor:registries: expected an object of registries such as { registry.example.com: { username: deploy, password: ... } }, got a list",
      ],
    ],
  ])("rejects %s", (_, overrides, expected) => {
    expect(problems(rawInput(overrides))).toEqual(expected);
  });

  it("never shows a password, even in a shape error", () => {
    const shown = problems(
      rawInput({
        registries: { "registry.example.com": { username: "deploy", password: 12345 } },
        secretKeys: secretRegistries,
      }),
    );
    expect(shown).toEqual([
      'conductor:registries["registry.example.com"].password: expected a non-empty password, got [secret]',
    ]);
  });
});

describe("the conductor namespace", () => {
  it.each([
    ["revison", `conductor:revison: unknown key "revison", expected one of: ${KNOWN}`],
    ["registry", `conductor:registry: unknown key "registry", expected one of: ${KNOWN}`],
  ])("rejects the unknown key %s", (key, message) => {
    expect(problems(rawInput({ keys: ["revision", "hosts", "services", key] }))).toEqual([message]);
  });

  it("accepts every key it knows", () => {
    const keys = ["app", "revision", "hosts", "services", "registries", "sshPrivateKey"];
    expect(loadFleet(rawInput({ keys })).ok).toBe(true);
  });
});
