// Recurring tasks with real cron: the deploy runs the example's generate-cron
// in the new revision and installs /etc/cron.d/conductor-<id>; its
// `* * * * *` job reports, from inside its container, the revision it runs in
// to an HTTP listener of this test (reached from containers through the
// docker0 bridge). A new revision's deploy switches the job; removing `cron`
// removes the file; a crontab cron cannot read fails the deploy and keeps the
// old file.
import * as fs from "node:fs";
import * as http from "node:http";
import { buildExample } from "./docker";
import { TestStack, run } from "./harness";
import { dockerBridgeAddress } from "./machine";

const REVISIONS = ["c0c0c01", "c0c0c02"];
const APP = "crn";
const PORT = 18199;
const id = `${APP}_jobs_crn`;
const cronFile = `/etc/cron.d/conductor-${id}`;

describe("cron jobs in the deployed revision", () => {
  let stack: TestStack;
  let server: http.Server;
  let bridge: string;
  const reports: { revision: string; at: number }[] = [];

  const config = (revision: string, cron: unknown, extra = "") => ({
    "conductor:app": APP,
    "conductor:revision": revision,
    "conductor:services": {
      jobs: {
        image: "conductor-hello",
        replicas: 0,
        ...(cron ? { cron } : {}),
        env: {
          CRON_EXTRA: `* * * * * wget -q -O /dev/null "http://${bridge}:${PORT}/ran?revision=$REVISION"${extra}`,
        },
      },
    },
  });

  const reportFrom = async (revision: string, since: number) => {
    const deadline = Date.now() + 75_000; // the next minute boundary, and cron's own lag
    while (Date.now() < deadline) {
      if (reports.some((r) => r.revision === revision && r.at > since)) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  };

  beforeAll(async () => {
    await Promise.all(REVISIONS.map((r) => buildExample(r)));
    bridge = await dockerBridgeAddress();
    server = http.createServer((req, res) => {
      const revision = new URL(req.url ?? "/", "http://x").searchParams.get("revision") ?? "";
      reports.push({ revision, at: Date.now() });
      res.end("ok\n");
    });
    await new Promise<void>((r) => server.listen(PORT, "0.0.0.0", r));
    stack = await TestStack.create("crn");
  });

  afterAll(async () => {
    await stack?.dispose();
    server?.close();
  });

  it("installs the wrapped crontab, and the job runs in the deployed revision", async () => {
    await stack.writeConfig(config(REVISIONS[0], { generate: ["generate-cron"] }));
    const since = Date.now();
    await stack.upOk();
    const file = fs.readFileSync(cronFile, "utf8");
    expect(file).toContain(
      `@daily  root  /usr/local/bin/conductor run --id ${id} --revision ${REVISIONS[0]} --lock -- /bin/sh -c 'hello-task nightly-report'`,
    );
    expect(file).toContain('MAILTO=""');
    expect(fs.statSync(cronFile).mode & 0o777).toBe(0o644);
    expect(await reportFrom(REVISIONS[0], since)).toBe(true);
  });

  it("switches the job to a new revision with the deploy", async () => {
    await stack.writeConfig(config(REVISIONS[1], { generate: ["generate-cron"] }));
    await stack.upOk();
    const deployed = Date.now();
    expect(fs.readFileSync(cronFile, "utf8")).toContain(`--revision ${REVISIONS[1]}`);
    expect(await reportFrom(REVISIONS[1], deployed)).toBe(true);
    expect(reports.filter((r) => r.at > deployed + 2000 && r.revision !== REVISIONS[1])).toEqual(
      [],
    );
  });

  it("fails the deploy on a line cron cannot read, naming it, and keeps the old file", async () => {
    const before = fs.readFileSync(cronFile, "utf8");
    await stack.writeConfig(
      config(REVISIONS[0], { generate: ["generate-cron"] }, "\n61 * * * * echo never"),
    );
    const result = await stack.up();
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/generate-cron output, line 7: `61 \* \* \* \* echo never`/);
    expect(fs.readFileSync(cronFile, "utf8")).toBe(before);
  });

  it("removes the file when cron is removed", async () => {
    await stack.writeConfig(config(REVISIONS[1], undefined));
    await stack.upOk();
    expect(fs.existsSync(cronFile)).toBe(false);
    expect(
      (
        await run("docker", [
          "ps",
          "-a",
          "--filter",
          `label=conductor.run`,
          "--format",
          "{{.Names}}",
        ])
      ).stdout,
    ).not.toContain(id);
  });
});
