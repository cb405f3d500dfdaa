// fleet:index:Image against a fake host: the argv and the request on stdin of
// `conductor image pull` (the password only on stdin), the outputs (secrets
// still wrapped), its diff, and, with the host command run in-process on a
// fake Docker, the error an operator reads when a pull fails. Not proven
// here: what the engine does with the diff (the fleet scenarios deploy it).
import type { Connection } from "../protocol/connection";
import { checkRequest } from "../protocol/requests";
import { fakeHost as fakeDockerHost } from "../host/fakes.testutil";
import { imagePull } from "../host/image";
import { imageHandler } from "./resources/image";
import { scriptedHost } from "./fakes.testutil";
import { containsSecret, secret } from "./secrets";
import { describeFailure, HostCommandError, hostCommand, type RunOnHost } from "./transport";

const CONDUCTOR = "/usr/local/bin/conductor";
const APP_1: Connection = {
  host: "app-1",
  address: "10.0.1.11",
  local: false,
  user: "deploy",
  port: 22,
};
const MOVED: Connection = { ...APP_1, address: "10.0.1.99" };
const SERVICE_ID = "shop_web_production";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const IMAGE = "registry.example.com/shop/web";
const REF = `${IMAGE}:${SHA}`;
const REGISTRY = "registry.example.com";
const PASSWORD = "pa55-w0rd'; echo $HOME";
const AUTH = { username: "deploy", password: PASSWORD };

/** The request `conductor image pull` reads. */
const REQUEST = {
  serviceId: SERVICE_ID,
  image: IMAGE,
  revision: SHA,
  registry: REGISTRY,
  auth: AUTH,
};
/** As the engine sends them: the connection and the credentials secret. */
const INPUTS = { ...REQUEST, connection: secret(APP_1), auth: secret(AUTH) };
/** `object` without credentials, as for a registry without an entry. */
const anonymous = (object: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(object).filter(([k]) => k !== "auth"));
const ANONYMOUS = anonymous(INPUTS);

const neverRuns: RunOnHost = async (_conn, argv) => {
  throw new Error(`nothing should run, but ${argv.join(" ")} did`);
};

const PULLED = '{"pulled":true}';

describe("an image", () => {
  it("is created by `conductor image pull` with the credentials revealed, named by its service id", async () => {
    const host = scriptedHost(`${REF}: pulled\n${PULLED}\n`);
    const result = await imageHandler.create(INPUTS, host.run);
    expect(host.calls.map((c) => [c.conn, c.argv, JSON.parse(c.input)])).toStrictEqual([
      [APP_1, [CONDUCTOR, "image", "pull"], REQUEST],
    ]);
    expect(result).toStrictEqual({ id: SERVICE_ID, outs: INPUTS });
    expect(containsSecret(result.outs?.auth)).toBe(true);
  });

  it("is created when the host has the image already (pulled: false)", async () => {
    const host = scriptedHost('{"pulled":false}');
    await expect(imageHandler.create(INPUTS, host.run)).resolves.toMatchObject({ id: SERVICE_ID });
  });

  it("sends the password on stdin only: not in argv, nor in the ssh command line", async () => {
    const host = scriptedHost(PULLED);
    await imageHandler.create(INPUTS, host.run);
    const [{ conn, argv, input }] = host.calls;
    const [file, args] = hostCommand(conn, argv);
    expect(file).toBe("ssh");
    expect([file, ...args].join(" ")).not.toContain("pa55");
    expect(JSON.parse(input).auth).toStrictEqual(AUTH);
  });

  it("sends no credentials for a registry without an entry", async () => {
    const host = scriptedHost(PULLED);
    await imageHandler.create(ANONYMOUS, host.run);
    const request = JSON.parse(host.calls[0].input);
    expect(request).not.toHaveProperty("auth");
    expect(request).toStrictEqual(anonymous(REQUEST));
  });

  it("is updated by pulling with the new inputs over the new connection", async () => {
    const news = { ...INPUTS, connection: MOVED, revision: "0".repeat(40) };
    const host = scriptedHost(PULLED);
    await expect(imageHandler.update(INPUTS, news, host.run)).resolves.toStrictEqual({
      outs: news,
    });
    expect(host.calls.map((c) => [c.conn, c.argv, JSON.parse(c.input)])).toStrictEqual([
      [MOVED, [CONDUCTOR, "image", "pull"], { ...REQUEST, revision: "0".repeat(40) }],
    ]);
  });

  it("sends a rotated password on its update", async () => {
    const rotated = { ...AUTH, password: "n3w-pa55" };
    const host = scriptedHost('{"pulled":false}');
    await imageHandler.update(INPUTS, { ...INPUTS, auth: secret(rotated) }, host.run);
    expect(JSON.parse(host.calls[0].input).auth).toStrictEqual(rotated);
  });

  it("is deleted without running anything: the image stays for a rollback", async () => {
    await expect(imageHandler.delete(INPUTS, neverRuns)).resolves.toBeUndefined();
  });
});

const replace = (key: string) => ({ changes: true, replaces: [key], deleteBeforeReplace: false });
const update = { changes: true, replaces: [], deleteBeforeReplace: false };
const none = { changes: false, replaces: [], deleteBeforeReplace: false };

// An update pulls on the host; a replacement would too, then delete the old one, which does nothing.
describe("an image's diff", () => {
  it("replaces it for another service id, never deleting first", () => {
    const news = { ...INPUTS, serviceId: "shop_web_staging" };
    expect(imageHandler.diff(INPUTS, news)).toStrictEqual(replace("serviceId"));
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["another image", INPUTS, { image: "registry.example.com/shop/api" }],
    ["another revision", INPUTS, { revision: "0".repeat(40) }],
    ["another registry", INPUTS, { registry: "10.0.0.5:5000" }],
    ["another password", INPUTS, { auth: secret({ ...AUTH, password: "n3w-pa55" }) }],
    ["another username", INPUTS, { auth: secret({ ...AUTH, username: "ci" }) }],
    ["credentials added", ANONYMOUS, { auth: secret(AUTH) }],
    ["credentials removed", INPUTS, { auth: undefined }],
    ["another connection", INPUTS, { connection: secret(MOVED) }],
  ])("updates it in place for %s", (_, olds, change) => {
    expect(imageHandler.diff(olds, { ...olds, ...change })).toStrictEqual(update);
  });

  it("has no changes with the same inputs, however the secrets are wrapped", () => {
    expect(imageHandler.diff(INPUTS, JSON.parse(JSON.stringify(INPUTS)))).toStrictEqual(none);
    expect(imageHandler.diff(INPUTS, { ...INPUTS, auth: AUTH, connection: APP_1 })).toStrictEqual(
      none,
    );
  });
});

describe("malformed image inputs", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "credentials without a password",
      { ...INPUTS, auth: secret({ username: "deploy" }) },
      "fleet:index:Image: invalid inputs: auth.password: Invalid input: expected string, received undefined",
    ],
    [
      "a tag beside the revision",
      { ...INPUTS, tag: "latest" },
      'fleet:index:Image: invalid inputs: (the whole value): Unrecognized key: "tag"',
    ],
    [
      "no registry",
      { ...INPUTS, registry: undefined },
      "fleet:index:Image: invalid inputs: registry: Invalid input: expected string, received undefined",
    ],
  ])("are refused with %s, naming the field", async (_, bad, message) => {
    await expect(imageHandler.create(bad, neverRuns)).rejects.toThrow(message);
  });

  it("never show the password", async () => {
    const bad = { ...INPUTS, revision: "HEAD", auth: secret({ ...AUTH, token: PASSWORD }) };
    const error = await imageHandler.create(bad, neverRuns).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^fleet:index:Image: invalid inputs: .*revision: /);
    expect((error as Error).message).not.toContain("pa55");
  });
});

/**
 * The host command in-process on a fake Docker: the request checked as
 * host/main.ts does, a failure on stderr as `conductor: <message>` and
 * reported as runOnHost reports it.
 */
function hostWithDocker(pullError?: string) {
  const host = fakeDockerHost();
  host.docker.pullError = pullError;
  const run: RunOnHost = async (conn, argv, input) => {
    expect(argv).toStrictEqual([CONDUCTOR, "image", "pull"]);
    try {
      const answer = await imagePull(
        checkRequest("image pull", JSON.parse(input)),
        host.logLine,
        host.fx,
      );
      return `${JSON.stringify(answer)}\n`;
    } catch (err) {
      const stderr = `conductor: ${(err as Error).message}\n`;
      throw new HostCommandError(`host ${conn.host}: ${describeFailure(conn, 1, stderr)}`);
    }
  };
  return { host, run };
}

describe("a pull that fails on the host", () => {
  const UNAUTHORIZED = `docker POST /images/create: Head "https://registry.example.com/v2/shop/web/manifests/${SHA}": unauthorized: authentication required`;

  it("fails the create naming host, image, registry and unauthorized, without the password", async () => {
    const { host, run } = hostWithDocker(UNAUTHORIZED);
    try {
      const error = await imageHandler.create(INPUTS, run).catch((e: Error) => e);
      expect(error).toBeInstanceOf(HostCommandError);
      const [headline] = (error as Error).message.split("\n");
      expect(headline).toBe(
        `host app-1: cannot pull ${REF} from registry registry.example.com: unauthorized ` +
          `(the registry refused the credentials of conductor:registries["registry.example.com"]): ${UNAUTHORIZED}`,
      );
      expect([(error as Error).message, ...host.log].join("\n")).not.toContain("pa55");
      // Nothing but the pull: no container is created by an Image.
      expect(host.trace).toStrictEqual([`docker image ${REF}`, `docker pull ${REF}`]);
    } finally {
      host.cleanup();
    }
  });

  it("creates the image once the host pulled it", async () => {
    const { host, run } = hostWithDocker();
    try {
      await expect(imageHandler.create(INPUTS, run)).resolves.toMatchObject({ id: SERVICE_ID });
      expect(host.docker.images.has(REF)).toBe(true);
    } finally {
      host.cleanup();
    }
  });
});
