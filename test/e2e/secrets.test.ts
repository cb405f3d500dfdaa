// Secrets stay secret and every value arrives exactly: a service whose env
// holds a secret (set with `pulumi config set --secret --path`) and hostile
// strings is deployed over SSH; then the output of preview and up, the state
// file, every process command line seen on the host during the deploy, and the
// files the deploy wrote are searched for the secret's plaintext, and each env
// value is read back from inside the container byte for byte.
//
// Not proved here: that `docker inspect` hides env (it does not: Docker shows
// a container's env to anyone who may use the Docker socket, i.e. root).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { buildExample, containersOf, nginxFile } from "./docker";
import { serviceId, webConfig } from "./fixtures";
import { TestStack, type RunResult } from "./harness";
import { commandLinesDuring } from "./machine";
import { authorizeTestKey, type SshKey } from "./ssh";

const REVISION = "5ec5ec5";
const LISTEN = 18104;
const APP = "sec";

const HOSTILE: Record<string, string> = {
  SPACES: "  two  spaces  ",
  QUOTES: `it's "quoted" \\'twice\\'`,
  DOLLAR: "$HOME ${PATH} $(id) `id`",
  OPERATORS: "a; rm -rf /tmp/x && echo pwned || true | cat > /dev/null &",
  NEWLINES: "line one\nline two\r\nline three\n",
  EQUALS: "a=b=c==",
  UNICODE: "héllo wörld ✓ 日本語 🚀",
  PERCENT: "100% \\% %s %d",
};

/** GET through nginx: the raw value of one env var inside a container. */
function envInContainer(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(
        { host: "127.0.0.1", port: LISTEN, path: `/env/${name}`, headers: { Connection: "close" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        },
      )
      .on("error", reject);
  });
}

describe("secrets and hostile values", () => {
  const secret = `s3cr3t-${crypto.randomBytes(12).toString("hex")}`;
  const id = serviceId(APP, "sec");
  let stack: TestStack;
  let key: SshKey;
  let up: RunResult;
  let preview: RunResult;
  let lines: Set<string>;

  beforeAll(async () => {
    await buildExample(REVISION);
    stack = await TestStack.create("sec");
    key = await authorizeTestKey(APP);
    await stack.writeConfig(
      webConfig({ app: APP, revision: REVISION, kind: "ssh", listen: LISTEN, env: HOSTILE }),
    );
    await stack.setSecret("conductor:sshPrivateKey", key.privateKey);
    await stack.setSecret("conductor:services.web.env.SECRET_TOKEN", secret);
    preview = await stack.pulumiOk(["preview", "--diff"]);
    ({ result: up, lines } = await commandLinesDuring(() =>
      stack.pulumi(["up", "--yes", "--diff"]),
    ));
  });

  afterAll(async () => {
    await stack?.dispose();
    key?.remove();
  });

  it("deploys", () => {
    expect(up.code).toBe(0);
  });

  it("delivers the secret and every hostile value byte for byte", async () => {
    expect(await envInContainer("SECRET_TOKEN")).toBe(secret);
    for (const [name, value] of Object.entries(HOSTILE))
      expect(await envInContainer(name)).toBe(value);
  });

  it("never prints the secret in preview or up output", () => {
    expect(preview.output).not.toContain(secret);
    expect(up.output).not.toContain(secret);
    expect(up.output).toContain("[secret]");
  });

  it("keeps the secret and the SSH key out of the state file", () => {
    const stateDir = path.join(stack.dir, "state", ".pulumi", "stacks");
    const files = execFileSync("find", [stateDir, "-type", "f"]).toString().trim().split("\n");
    const keyBody = key.privateKey.split("\n")[1];
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keyBody);
    }
    expect(files.length).toBeGreaterThan(0);
  });

  it("never shows the secret in a process command line during the deploy", () => {
    expect(lines.size).toBeGreaterThan(10);
    expect([...lines].some((l) => l.includes("conductor"))).toBe(true); // the sampler saw the deploy
    expect([...lines].filter((l) => l.includes(secret))).toEqual([]);
  });

  it("writes the secret only to root-only records, nowhere else", async () => {
    expect(fs.readFileSync(nginxFile(id), "utf8")).not.toContain(secret);
    // The records of containers and of the release hold the env: root only.
    const records = "/var/lib/conductor/containers";
    const releases = "/var/lib/conductor/releases";
    for (const dir of ["/var/lib/conductor", records, releases]) {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    }
    const files = [
      ...(await containersOf(id)).map((c) => `${records}/${c.name}.json`),
      `${releases}/${id}.json`,
    ];
    for (const file of files) {
      expect(fs.readFileSync(file, "utf8")).toContain(secret); // the right files
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    // Everywhere else a deploy writes: config, logs, binaries, our temp dirs.
    const places = "/etc /var/log /usr/local/bin /var/lib/conductor/paused /tmp/conductor-*";
    const grep = execFileSync("sh", [
      "-c",
      `grep -rlF -- "$0" ${places} 2>/dev/null || true`,
      secret,
    ]);
    expect(grep.toString().trim()).toBe("");
  });

  it("redeploys when only the secret changes", async () => {
    const before = (await containersOf(id)).map((c) => c.name).sort();
    const next = `${secret}-rotated`;
    await stack.setSecret("conductor:services.web.env.SECRET_TOKEN", next);
    const result = await stack.upOk();
    expect(result.output).not.toContain(next);
    const after = (await containersOf(id)).map((c) => c.name).sort();
    expect(after).toHaveLength(2);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    expect(await envInContainer("SECRET_TOKEN")).toBe(next);
  });
});
