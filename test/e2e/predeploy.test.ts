// The predeploy command on this machine's Docker: the example's busybox shell
// reports, from the throwaway container, the revision it runs in and a secret
// env value to an HTTP listener of this test (on the docker0 bridge, as in
// cron.test.ts); the listener notes which of the service's containers exist at
// that moment. The secret travels in the request body from a file written by
// the shell's builtin printf, so no process ever has it in its argv.
//
// Not proven here: the timeout (host/predeploy.test.ts), a predeploy over SSH
// (the same host command as every other request), an `up` killed while it runs.
import * as crypto from "node:crypto";
import * as http from "node:http";
import { buildExample, get } from "./docker";
import { serviceId, webConfig } from "./fixtures";
import { run, TestStack } from "./harness";
import { commandLinesDuring, dockerBridgeAddress } from "./machine";

const REVISIONS = ["9de9101", "9de9102", "9de9103"];
const APP = "pre";
const LISTEN = 18131;
const PORT = 18132;
const id = serviceId(APP, "pre");

const MIGRATE = [
  "sh",
  "-c",
  'printf %s "$DB_PASSWORD" > body && wget -q -O /dev/null --post-file=body "http://$BRIDGE:$REPORT_PORT/migrated?revision=$REVISION" && echo "migrated to $REVISION" && sleep 1',
];
const FAILING = [
  "sh",
  "-c",
  'echo "migrating to $REVISION"; echo "PG::UndefinedTable: boom" >&2; exit 3',
];

interface Report {
  revision: string;
  secret: string;
  /** The images of the service's containers while it ran. */
  images: string[];
}

async function imagesOfService(): Promise<string[]> {
  const result = await run("docker", [
    "ps",
    "--filter",
    `label=conductor.service=${id}`,
    "--format",
    "{{.Image}}",
  ]);
  return result.stdout.split("\n").filter(Boolean).sort();
}

describe("the predeploy command", () => {
  const secret = `m1gr4te-${crypto.randomBytes(12).toString("hex")}`;
  let stack: TestStack;
  let server: http.Server;
  let bridge: string;
  const reports: Report[] = [];

  const deploy = (revision: string, command: string[]) =>
    stack.writeConfig(
      (() => {
        const config = webConfig({
          app: APP,
          revision,
          kind: "local",
          listen: LISTEN,
          env: { BRIDGE: bridge, REPORT_PORT: String(PORT) },
        });
        const web = (config["conductor:services"] as Record<string, Record<string, unknown>>).web;
        web.predeploy = { command, timeout: "1m" };
        return config;
      })(),
    );

  const serving = async () => (await get(`http://127.0.0.1:${LISTEN}/`)).body.trim();

  beforeAll(async () => {
    await Promise.all(REVISIONS.map((r) => buildExample(r)));
    bridge = await dockerBridgeAddress();
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void imagesOfService().then((images) => {
          const revision = new URL(req.url ?? "/", "http://x").searchParams.get("revision") ?? "";
          reports.push({ revision, secret: Buffer.concat(chunks).toString("utf8"), images });
          res.end("ok\n");
        });
      });
    });
    await new Promise<void>((r) => server.listen(PORT, "0.0.0.0", r));
    stack = await TestStack.create("pre");
    await deploy(REVISIONS[0], MIGRATE);
    await stack.setSecret("conductor:services.web.env.DB_PASSWORD", secret);
  });

  afterAll(async () => {
    await stack?.dispose();
    server?.close();
  });

  it("shows in preview that it will run", async () => {
    const preview = await stack.pulumiOk(["preview"]);
    expect(preview.output).toMatch(/\+\s.*fleet:index:Predeploy\s+web-predeploy\s+create/);
  });

  it("runs on the first deploy with the secret env, before any container of the service, keeping the secret out of output and ps", async () => {
    const { result, lines } = await commandLinesDuring(() => stack.up());
    expect(result.code).toBe(0);
    expect(reports).toEqual([{ revision: REVISIONS[0], secret, images: [] }]);
    expect(await serving()).toBe(REVISIONS[0]);
    // Its output, in up's, under the resource.
    expect(result.output).toMatch(/predeploy `sh -c [^`]*` succeeded; its last lines:/);
    expect(result.output).toContain(`migrated to ${REVISIONS[0]}`);
    expect(result.output).not.toContain(secret);
    // The sampler saw the migration run (its command in the container; the
    // request itself goes to `conductor serve`, whose command line is just that).
    expect([...lines].some((l) => l.includes("--post-file=body"))).toBe(true);
    expect([...lines].filter((l) => l.includes(secret))).toEqual([]);
  });

  it("does not run again for a deploy that keeps the revision", async () => {
    await stack.upOk();
    expect(reports).toHaveLength(1);
  });

  it("runs again for a new revision, in that revision, while only the old containers exist", async () => {
    await deploy(REVISIONS[1], MIGRATE);
    const preview = await stack.pulumiOk(["preview"]);
    expect(preview.output).toMatch(/~\s.*fleet:index:Predeploy\s+web-predeploy\s+update/);
    await stack.upOk();
    expect(reports.slice(1)).toEqual([
      {
        revision: REVISIONS[1],
        secret,
        images: [`conductor-hello:${REVISIONS[0]}`, `conductor-hello:${REVISIONS[0]}`],
      },
    ]);
    expect(await serving()).toBe(REVISIONS[1]);
  });

  it("stops the deploy when it fails, showing its exit code and output, and the old containers keep serving", async () => {
    const before = await imagesOfService();
    await deploy(REVISIONS[2], FAILING);
    const result = await stack.up();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`of ${id} at revision ${REVISIONS[2]} exited with 3`);
    expect(result.output).toContain(`migrating to ${REVISIONS[2]}`);
    expect(result.output).toContain("PG::UndefinedTable: boom");
    expect(result.output).not.toContain(secret);
    expect(await imagesOfService()).toEqual(before);
    expect(await serving()).toBe(REVISIONS[1]);
    const leftover = await run("docker", [
      "ps",
      "-a",
      "--filter",
      "label=conductor.run",
      "--format",
      "{{.Names}}",
    ]);
    expect(leftover.stdout).not.toContain(`${id}-predeploy`);
  });
});
