// `image pull` and the Engine call under it: the X-Registry-Auth header (its
// padding), the pull request against a fake Engine on a unix socket, what
// each Docker 20.10 error is classified as, and what the error and the log
// say. Not proven here: that a real Engine or registry accepts the header
// (the fleet scenarios pull through a registry that wants credentials), nor
// that an Engine never echoes a password in its own messages.
import fc from "fast-check";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { ImagePullRequest } from "../protocol/requests";
import type * as Docker from "./docker";
import { type DockerClient, registryAuthHeader } from "./docker";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { imagePull, type PullFailure, pullFailureKind } from "./image";

const IMAGE = "registry.example.com/shop/web";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const REF = `${IMAGE}:${SHA}`;
const REGISTRY = "registry.example.com";
const PASSWORD = "s3cret";
const AUTH = { username: "deploy", password: PASSWORD, serveraddress: REGISTRY };
/** AUTH's header, from Python's base64.urlsafe_b64encode (padded, like Go's base64.URLEncoding). */
const AUTH_HEADER =
  "eyJ1c2VybmFtZSI6ImRlcGxveSIsInBhc3N3b3JkIjoiczNjcmV0Iiwic2VydmVyYWRkcmVzcyI6InJlZ2lzdHJ5LmV4YW1wbGUuY29tIn0=";

describe("registryAuthHeader", () => {
  // Docker 20.10 ignores an unpadded header and pulls anonymously.
  it.each([
    [
      "s3cret!",
      "no padding (81 bytes of JSON)",
      "eyJ1c2VybmFtZSI6ImRlcGxveSIsInBhc3N3b3JkIjoiczNjcmV0ISIsInNlcnZlcmFkZHJlc3MiOiJyZWdpc3RyeS5leGFtcGxlLmNvbSJ9",
    ],
    ["s3cret", "one '=' (80 bytes)", AUTH_HEADER],
    [
      "s3cret!!",
      "two '=' (82 bytes)",
      "eyJ1c2VybmFtZSI6ImRlcGxveSIsInBhc3N3b3JkIjoiczNjcmV0ISEiLCJzZXJ2ZXJhZGRyZXNzIjoicmVnaXN0cnkuZXhhbXBsZS5jb20ifQ==",
    ],
    [
      "~~~???",
      "'-' and '_' where base64 has '+' and '/'",
      "eyJ1c2VybmFtZSI6ImRlcGxveSIsInBhc3N3b3JkIjoifn5-Pz8_Iiwic2VydmVyYWRkcmVzcyI6InJlZ2lzdHJ5LmV4YW1wbGUuY29tIn0=",
    ],
  ])("encodes password %j with %s, as Go's base64.URLEncoding does", (password, _, expected) => {
    expect(registryAuthHeader({ ...AUTH, password })).toBe(expected);
  });

  it("ends in '=' when the base64 of the JSON is not a multiple of 4 long", () => {
    const unpadded = Buffer.from(JSON.stringify(AUTH)).toString("base64url");
    expect(unpadded.length % 4).not.toBe(0);
    expect(registryAuthHeader(AUTH)).toBe(`${unpadded}=`);
  });

  it("is, for any credentials, a multiple of 4 long, URL-safe, and the JSON of the three fields", () => {
    const auth = fc.record({
      username: fc.string({ minLength: 1 }),
      password: fc.string({ unit: "grapheme", minLength: 1 }),
      serveraddress: fc.constantFrom(REGISTRY, "10.0.0.5:5000", "docker.io"),
    });
    fc.assert(
      fc.property(auth, (a) => {
        const header = registryAuthHeader(a);
        expect(header.length % 4).toBe(0);
        expect(header).toMatch(/^[A-Za-z0-9_-]*={0,2}$/);
        expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toStrictEqual({
          ...a,
        });
      }),
    );
  });
});

interface EngineRequest {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
}

describe("pullImage, against a fake Engine on a unix socket", () => {
  let dir: string;
  let server: http.Server;
  let docker: typeof Docker;
  const requests: EngineRequest[] = [];
  let answer = { status: 200, body: "" };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-engine-"));
    const socket = path.join(dir, "docker.sock");
    server = http.createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, headers: req.headers });
      req.resume();
      req.on("end", () => {
        res.writeHead(answer.status, { "Content-Type": "application/json" });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    // docker.ts reads the socket's path once, when loaded.
    const saved = process.env.CONDUCTOR_DOCKER_SOCKET;
    process.env.CONDUCTOR_DOCKER_SOCKET = socket;
    await jest.isolateModulesAsync(async () => {
      docker = await import("./docker");
    });
    if (saved === undefined) delete process.env.CONDUCTOR_DOCKER_SOCKET;
    else process.env.CONDUCTOR_DOCKER_SOCKET = saved;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests.length = 0;
    answer = { status: 200, body: progress() };
  });

  /** The Engine's stream: JSON objects, one a line, CRLF-separated. */
  const progress = (...extra: object[]) =>
    [
      { status: `Pulling from shop/web`, id: SHA },
      { status: "Pulling fs layer", progressDetail: {}, id: "a1b2c3d4e5f6" },
      ...extra,
    ]
      .map((e) => `${JSON.stringify(e)}\r\n`)
      .join("");
  const QUERY = `/images/create?fromImage=registry.example.com%2Fshop%2Fweb&tag=${SHA}`;

  it("posts the repository and tag, the credentials padded in X-Registry-Auth, none in the URL", async () => {
    await docker.pullImage(IMAGE, SHA, AUTH);
    expect(requests.map((r) => [r.method, r.url, r.headers["x-registry-auth"]])).toStrictEqual([
      ["POST", QUERY, AUTH_HEADER],
    ]);
    expect(requests[0].url).not.toContain(PASSWORD);
  });

  it("sends no X-Registry-Auth at all for an anonymous pull", async () => {
    await docker.pullImage(IMAGE, SHA);
    expect(requests.map((r) => [r.method, r.url])).toStrictEqual([["POST", QUERY]]);
    expect(requests[0].headers).not.toHaveProperty("x-registry-auth");
  });

  it("fails with the error the Engine reports in the stream, after progress", async () => {
    const error = `Head "https://registry.example.com/v2/shop/web/manifests/${SHA}": unauthorized: authentication required`;
    answer = { status: 200, body: progress({ errorDetail: { message: error }, error }) };
    await expect(docker.pullImage(IMAGE, SHA, AUTH)).rejects.toThrow(
      new Error(`docker pull ${REF}: ${error}`),
    );
  });

  it("fails with the Engine's message, without the query, when it refuses the pull at once", async () => {
    const message = `manifest for ${REF} not found: manifest unknown: manifest unknown`;
    answer = { status: 404, body: JSON.stringify({ message }) };
    const error = await docker.pullImage(IMAGE, SHA, AUTH).catch((e: Docker.DockerError) => e);
    expect(error).toBeInstanceOf(docker.DockerError);
    expect(error).toMatchObject({
      status: 404,
      message: `docker POST /images/create: ${message}`,
    });
  });
});

const URL_V2 = `"https://registry.example.com/v2/"`;
const MANIFEST = `"https://registry.example.com/v2/shop/web/manifests/${SHA}"`;

describe("pullFailureKind, on what Docker 20.10 says", () => {
  it.each<[PullFailure, string]>([
    [
      "unauthorized",
      `docker POST /images/create: Head ${MANIFEST}: unauthorized: authentication required`,
    ],
    ["unauthorized", `docker POST /images/create: Head ${MANIFEST}: no basic auth credentials`],
    [
      "unauthorized",
      `docker POST /images/create: Head ${MANIFEST}: unauthorized: incorrect username or password`,
    ],
    [
      "unauthorized",
      "docker POST /images/create: pull access denied for shop/web, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ],
    ["unauthorized", `docker pull ${REF}: unauthorized: authentication required`],
    [
      "not found",
      `docker POST /images/create: manifest for ${REF} not found: manifest unknown: manifest unknown`,
    ],
    ["not found", `docker pull ${REF}: manifest unknown: manifest unknown`],
    [
      "not found",
      `docker POST /images/create: repository ${IMAGE} not found: name unknown: repository name not known to registry`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: dial tcp 10.0.1.5:443: connect: connection refused`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: dial tcp: lookup registry.example.com on 127.0.0.53:53: no such host`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: dial tcp 10.0.1.5:443: i/o timeout`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: dial tcp 10.0.1.5:443: connect: network is unreachable`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`,
    ],
    // TLS trust is about reaching the registry, as the hint says: fixed on the host, not in the registry.
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: x509: certificate signed by unknown authority`,
    ],
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: x509: certificate is valid for other.example.com, not registry.example.com`,
    ],
    // An HTTP-only registry the host's daemon.json does not list in insecure-registries.
    [
      "unreachable",
      `docker POST /images/create: Get ${URL_V2}: http: server gave HTTP response to HTTPS client`,
    ],
    ["unreachable", `docker POST /images/create: Get ${URL_V2}: EOF`],
    ["unreachable", `docker pull ${REF}: unexpected EOF`],
    [
      "failed",
      `docker pull ${REF}: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
    ],
    [
      "failed",
      `docker POST /images/create: Get ${MANIFEST}: received unexpected HTTP status: 500 Internal Server Error`,
    ],
    [
      "failed",
      `docker pull ${REF}: write /var/lib/docker/tmp/GetImageBlob123: no space left on device`,
    ],
  ])("%s: %s", (kind, message) => {
    expect(pullFailureKind(message)).toBe(kind);
  });

  // Every message names the repository: a name with "eof" in it is no EOF.
  it("reads EOF as Go's io.EOF only, not inside a repository's name", () => {
    const message = `docker pull registry.example.com/media/videofeed:${SHA}: toomanyrequests: slow down`;
    expect(pullFailureKind(message)).toBe("failed");
  });
});

describe("image pull", () => {
  let host: FakeHost;
  /** What each pull was given: the fake Docker itself ignores credentials. */
  let pulls: Parameters<DockerClient["pullImage"]>[];
  beforeEach(() => {
    host = fakeHost();
    pulls = [];
    const pullImage = host.docker.pullImage.bind(host.docker);
    host.docker.pullImage = (...args: Parameters<DockerClient["pullImage"]>) => {
      pulls.push(args);
      return pullImage(args[0], args[1]);
    };
  });
  afterEach(() => host.cleanup());

  const REQUEST: ImagePullRequest = {
    serviceId: "shop_web_production",
    image: IMAGE,
    revision: SHA,
    registry: REGISTRY,
    auth: { username: "deploy", password: PASSWORD },
  };
  const ANONYMOUS: ImagePullRequest = Object.fromEntries(
    Object.entries(REQUEST).filter(([k]) => k !== "auth"),
  ) as ImagePullRequest;
  const pull = (req: ImagePullRequest = REQUEST) => imagePull(req, host.logLine, host.fx);
  const failure = (req: ImagePullRequest = REQUEST) =>
    pull(req).then(
      () => undefined,
      (e: Error) => e.message,
    );

  it("does nothing when the host has the image", async () => {
    host.docker.images.add(REF);
    expect(await pull()).toStrictEqual({ pulled: false });
    expect(host.trace).toStrictEqual([`docker image ${REF}`]);
    expect(host.log).toStrictEqual([]);
  });

  it("pulls a missing image with the registry's credentials, addressed to the registry", async () => {
    expect(await pull()).toStrictEqual({ pulled: true });
    expect(pulls).toStrictEqual([[IMAGE, SHA, AUTH]]);
    expect(host.trace).toStrictEqual([`docker image ${REF}`, `docker pull ${REF}`]);
    expect(host.log).toStrictEqual([
      `${REF}: not on this host, pulling from registry.example.com as deploy`,
      `${REF}: pulled`,
    ]);
  });

  it("names the registry of the request as the credentials' server (a port, Docker Hub)", async () => {
    await pull({ ...REQUEST, image: "10.0.0.5:5000/shop/web", registry: "10.0.0.5:5000" });
    await pull({ ...REQUEST, image: "shop/web", registry: "docker.io" });
    expect(pulls.map((p) => p[2]?.serveraddress)).toEqual(["10.0.0.5:5000", "docker.io"]);
  });

  it("pulls anonymously, with no credentials at all, when the registry has no entry", async () => {
    expect(await pull(ANONYMOUS)).toStrictEqual({ pulled: true });
    expect(pulls).toStrictEqual([[IMAGE, SHA, undefined]]);
    expect(host.log[0]).toBe(
      `${REF}: not on this host, pulling from registry.example.com anonymously`,
    );
  });

  const UNAUTHORIZED = `docker POST /images/create: Head ${MANIFEST}: unauthorized: authentication required`;
  const NOT_FOUND = `docker POST /images/create: manifest for ${REF} not found: manifest unknown: manifest unknown`;
  const REFUSED = `docker POST /images/create: Get ${URL_V2}: dial tcp 10.0.1.5:443: connect: connection refused`;
  const RATE = `docker pull ${REF}: toomanyrequests: You have reached your pull rate limit`;
  const head = `cannot pull ${REF} from registry registry.example.com`;

  it.each<[string, ImagePullRequest, string, string]>([
    [
      "refused credentials",
      REQUEST,
      UNAUTHORIZED,
      `${head}: unauthorized (the registry refused the credentials of conductor:registries["registry.example.com"]): ${UNAUTHORIZED}`,
    ],
    [
      "credentials wanted",
      ANONYMOUS,
      UNAUTHORIZED,
      `${head}: unauthorized (the registry wants credentials: add them to conductor:registries["registry.example.com"]): ${UNAUTHORIZED}`,
    ],
    [
      "no such revision",
      REQUEST,
      NOT_FOUND,
      `${head}: not found (the registry has no ${REF}: is it pushed?): ${NOT_FOUND}`,
    ],
    [
      "a registry it cannot reach",
      REQUEST,
      REFUSED,
      `${head}: unreachable (this host cannot reach the registry (address, port, TLS trust)): ${REFUSED}`,
    ],
    ["anything else", REQUEST, RATE, `${head}: failed (the registry answered): ${RATE}`],
  ])("fails on %s naming image, registry and what went wrong", async (_, req, docker, message) => {
    host.docker.pullError = docker;
    expect(await failure(req)).toBe(message);
    expect(host.trace).toStrictEqual([`docker image ${REF}`, `docker pull ${REF}`]);
    expect(host.docker.images.has(REF)).toBe(false);
  });

  it.each([UNAUTHORIZED, NOT_FOUND, REFUSED, RATE])(
    "never shows the password in its error or log (%s)",
    async (docker) => {
      host.docker.pullError = docker;
      const message = await failure();
      expect(message).toMatch(/^cannot pull /);
      expect([message, ...host.log].join("\n")).not.toContain(PASSWORD);
    },
  );
});
