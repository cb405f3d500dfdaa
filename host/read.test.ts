// `conductor <kind> read` against the fake host: what each answers for what
// the deploy left, for what an operator changed by hand, and for nothing; and
// that none of them changes anything (the trace holds only look-ups). Not
// proven here: the provider's use of the answers (provider/read.test.ts).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { ReleaseRequest } from "../protocol/requests";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { nginxApply, nginxHolds } from "./nginx";
import { containerRead, cronRead, imageRead, nginxRead, releaseRead } from "./read";
import { releaseApply } from "./release";

const ID = "shop_web_production";
const NAME = "shop_web_production-0-0123456789";
const RELEASE: ReleaseRequest = {
  serviceId: ID,
  image: "registry.example.com/shop/web",
  revision: "279d903",
  command: ["bin/web"],
  env: { SECRET: "hunter2" },
  containers: [NAME],
  supervise: true,
  volumes: [{ source: "uploads", target: "/uploads", readOnly: false }],
};

let host: FakeHost;
beforeEach(() => {
  host = fakeHost();
});
afterEach(() => host.cleanup());

/** What a read did: look-ups only (under a lock or not), nothing written. */
function readOnly(trace: string[]) {
  expect(trace.filter((t) => !/^(docker (inspect|image)|lock|unlock) /.test(t))).toStrictEqual([]);
}

describe("container read", () => {
  const read = () => containerRead({ serviceId: ID, name: NAME }, undefined, host.fx);

  it.each([
    ["running", 20001, { state: "running", hostPort: 20001 }],
    ["exited", 20001, { state: "exited", hostPort: 20001 }],
    ["created", undefined, { state: "created" }],
  ])("answers Docker's state %s and the port label", async (status, port, container) => {
    host.docker.add(NAME, status, {
      "conductor.service": ID,
      ...(port && { "conductor.port": String(port) }),
    });
    await expect(read()).resolves.toStrictEqual({ container });
    readOnly(host.trace);
  });

  // The supervisor removes and re-creates a container under this lock: a read
  // between the two found none, and refresh dropped the Container.
  it("inspects under the service's lock, which the supervisor holds to re-create one", async () => {
    host.docker.add(NAME, "running", { "conductor.service": ID });
    await read();
    expect(host.trace).toStrictEqual([
      `lock service-${ID}`,
      `docker inspect ${NAME}`,
      `unlock service-${ID}`,
    ]);
  });

  it("answers none when Docker has no such container", async () => {
    await expect(read()).resolves.toStrictEqual({ container: null });
  });

  it("answers none for a container of that name that is not the service's", async () => {
    host.docker.add(NAME, "running", { "conductor.service": "shop_api_production" });
    await expect(read()).resolves.toStrictEqual({ container: null });
  });
});

describe("image read", () => {
  const HUB = "docker.io/library/nginx";
  const read = (image: string) =>
    imageRead({ serviceId: ID, image, revision: "1.27" }, undefined, host.fx);

  // Docker resolves the reference (docker.io/library/nginx:1.27 is the image it
  // lists as nginx:1.27; checked against dockerd 2026-12): the host asks for
  // exactly the configured one, never matches listed tags against it.
  it("asks Docker for the exact reference of the revision, as configured", async () => {
    host.docker.images.add(`${HUB}:1.27`);
    await expect(read(HUB)).resolves.toStrictEqual({ present: true });
    expect(host.trace).toStrictEqual([`docker image ${HUB}:1.27`]);
  });

  it("answers not present when Docker has no such image", async () => {
    await expect(read(HUB)).resolves.toStrictEqual({ present: false });
  });
});

describe("nginx read", () => {
  const read = () => nginxRead({ serviceId: ID }, undefined, host.fx);
  const file = () => host.fx.nginxConfDir.path(`conductor-${ID}.conf`);

  it("answers the file `nginx apply` wrote, and after an edit by hand, the edit", async () => {
    await nginxApply({ serviceId: ID, config: "server { listen 80; }\n" }, host.logLine, host.fx);
    host.trace.length = 0;
    await expect(read()).resolves.toStrictEqual({ config: "server { listen 80; }\n" });
    fs.appendFileSync(file(), "# tuned by hand\n");
    await expect(read()).resolves.toStrictEqual({
      config: "server { listen 80; }\n# tuned by hand\n",
    });
    readOnly(host.trace);
  });

  it("answers null when there is no file", async () => {
    await expect(read()).resolves.toStrictEqual({ config: null });
  });

  it("answers the file as the deploy wrote it while the supervisor holds a replica out (not drift)", async () => {
    const site =
      "upstream u {\n    server 127.0.0.1:20001 max_fails=0;\n    server 127.0.0.1:20002 max_fails=0;\n}\n";
    await nginxApply({ serviceId: ID, config: site }, host.logLine, host.fx);
    host.store.writeHolds({ [ID]: { [`${ID}-1-bbbbbbbbbb`]: { port: 20002, since: 1 } } });
    await nginxHolds(ID, host.logLine, host.fx);
    expect(fs.readFileSync(file(), "utf8")).toContain("20002 max_fails=0 backup;");
    await expect(read()).resolves.toStrictEqual({ config: site });
  });
});

describe("cron read", () => {
  const read = () => cronRead({ serviceId: ID }, undefined, host.fx);
  const content = "# conductor-managed\n* * * * * root true\n";
  const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

  it("answers the SHA-256 of the file as it is", async () => {
    host.fx.cronDir.write(`conductor-${ID}`, content);
    await expect(read()).resolves.toStrictEqual({ sha256: sha256(content) });
    host.fx.cronDir.write(`conductor-${ID}`, `${content}# edited\n`);
    await expect(read()).resolves.toStrictEqual({ sha256: sha256(`${content}# edited\n`) });
    readOnly(host.trace);
  });

  it("answers null when the file was deleted", async () => {
    await expect(read()).resolves.toStrictEqual({ sha256: null });
  });
});

describe("release read", () => {
  const read = () => releaseRead({ serviceId: ID }, undefined, host.fx);
  const file = () => host.store.releaseFile(ID);

  beforeEach(async () => {
    await releaseApply(RELEASE, host.logLine, host.fx);
    host.trace.length = 0;
  });

  it("answers the record `release apply` wrote, as its request", async () => {
    await expect(read()).resolves.toStrictEqual({ release: RELEASE });
    readOnly(host.trace);
  });

  it("answers a record edited by hand as it now is", async () => {
    const edited = { ...RELEASE, env: { SECRET: "hunter2", DEBUG: "1" }, supervise: false };
    fs.writeFileSync(file(), JSON.stringify(edited));
    await expect(read()).resolves.toStrictEqual({ release: edited });
  });

  it("answers null when there is no record", async () => {
    fs.rmSync(file());
    await expect(read()).resolves.toStrictEqual({ release: null });
  });

  it("answers a problem, naming the file, for a record that is not JSON", async () => {
    fs.writeFileSync(file(), '{"serviceId": ');
    const answer = await read();
    expect(answer.release).toBeNull();
    expect(answer.problem).toMatch(new RegExp(`^${file()} is not JSON: `));
  });

  it("answers a problem that never quotes a corrupt record's text (an unquoted secret)", async () => {
    fs.writeFileSync(file(), '{"env":{"DB_PASSWORD":hunter2-very-secret}}');
    const answer = await read();
    expect(answer).toStrictEqual({
      release: null,
      problem: `${file()} is not JSON: unexpected text`,
    });
    expect(answer.problem).not.toContain("hunter2");
  });

  it("answers a problem naming the fields, never their values, of a record conductor would not write", async () => {
    fs.writeFileSync(file(), JSON.stringify({ ...RELEASE, env: { "NOT A NAME": "hunter2" } }));
    const answer = await read();
    expect(answer).toStrictEqual({
      release: null,
      problem: `${file()} is not a release conductor writes: env.NOT A NAME`,
    });
    expect(answer.problem).not.toContain("hunter2");
  });
});
