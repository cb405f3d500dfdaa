// The provider's dispatch by URN. Each handler's create, update and delete
// against a fake host: handlers.test.ts; against real hosts: the e2e tests.
import { WARM_UP_FUNCTION } from "../protocol/names";
import { FleetProvider, typeOfUrn } from "./provider";
import { containerHandler } from "./resources/container";

const CONNECTION = { host: "local", address: "local", local: true, user: "root", port: 22 };

describe("typeOfUrn", () => {
  it.each([
    ["urn:pulumi:dev::conductor::fleet:index:Agent::local", "fleet:index:Agent"],
    [
      "urn:pulumi:dev::conductor::conductor:index:Service$fleet:index:Container::web-local-0",
      "fleet:index:Container",
    ],
    [
      "urn:pulumi:dev::conductor::pulumi:pulumi:Stack$conductor:index:Service$fleet:index:NginxSite::web-local-nginx",
      "fleet:index:NginxSite",
    ],
    // Names may hold "$" and "::"; only the type part decides.
    [
      "urn:pulumi:dev::conductor::conductor:index:Host$fleet:index:Agent::a$b::c",
      "fleet:index:Agent",
    ],
  ])("reads the type of %s", (urn, type) => {
    expect(typeOfUrn(urn)).toBe(type);
  });
});

describe("FleetProvider", () => {
  const provider = new FleetProvider();
  const urn = (type: string, name: string) =>
    `urn:pulumi:dev::conductor::conductor:index:Service$${type}::${name}`;

  // A config change is an update for a site but not even a change for a container:
  // the answer shows which handler the URN reached.
  it("sends each type's diff to its own handler", async () => {
    const site = { connection: CONNECTION, serviceId: "s", config: "a" };
    const changed = { ...site, config: "b" };
    await expect(
      provider.diff("id", urn("fleet:index:NginxSite", "web-local-nginx"), site, changed),
    ).resolves.toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    await expect(
      provider.diff("id", urn("fleet:index:Container", "web-local-0"), site, changed),
    ).resolves.toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  const unknown = urn("fleet:index:Volume", "data");
  it.each<[string, () => Promise<unknown>]>([
    ["diff", () => provider.diff("id", unknown, {}, {})],
    ["create", () => provider.create(unknown, {})],
    ["update", () => provider.update("id", unknown, {}, {})],
    ["delete", () => provider.delete("id", unknown, {})],
  ])("refuses to %s an unknown type", async (_, call) => {
    await expect(call()).rejects.toThrow("unknown resource type fleet:index:Volume");
  });
});

describe("the warm-up function", () => {
  // program.js calls it only so that the engine starts the provider early.
  it("answers with nothing, and refuses any other function", async () => {
    const provider = new FleetProvider();
    await expect(provider.invoke(WARM_UP_FUNCTION)).resolves.toEqual({ outputs: {} });
    await expect(provider.invoke("fleet:index:deleteEverything")).rejects.toThrow(
      "unknown function fleet:index:deleteEverything",
    );
  });
});

describe("a container update", () => {
  // Only the connection can change without a replacement; the container stays as it was.
  it("keeps the old container's outputs and stores the new connection", async () => {
    const olds = { connection: CONNECTION, image: "app", name: "s-0-abc", hostPort: 20000 };
    const moved = { ...CONNECTION, address: "10.0.1.99", local: false };
    const run = jest.fn();
    await expect(
      containerHandler.update(olds, { connection: moved, image: "app" }, run),
    ).resolves.toEqual({ outs: { ...olds, connection: moved } });
    expect(run).not.toHaveBeenCalled();
  });
});
