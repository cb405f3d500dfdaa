// `cron install|remove` against a fake Docker (generate-cron's container)
// and a temp cron dir. The wrapping itself is crontab.test.ts's.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { CronInstallRequest } from "../protocol/requests";
import { cronInstall, cronRemove } from "./cron";
import { type FakeHost, fakeHost } from "./fakes.testutil";

const ID = "shop_cron_production";
const REVISION = "279d9035886d4c0427549863c4c2101e4a63e041";
const REQUEST: CronInstallRequest = {
  serviceId: ID,
  image: "registry.example.com/shop/cron",
  revision: REVISION,
  env: { SECRET: "hunter2" },
  generate: ["bin/generate-cron"],
  allowOverlap: false,
};
const RUNNER = `${ID}-generate-cron-00000001`;

let host: FakeHost;
let file: string;
beforeEach(() => {
  host = fakeHost();
  file = host.fx.cronDir.path(`conductor-${ID}`);
});
afterEach(() => host.cleanup());

/** generate-cron prints `stdout` and exits with `code`. */
function generates(stdout: string, code = 0, stderr = "") {
  host.docker.onStart = (c) => {
    Object.assign(c, { stdout, stderr });
    host.docker.exit(c.name, code);
  };
}

const install = () => cronInstall(REQUEST, host.logLine, host.fx);

describe("cron install", () => {
  it("runs generate-cron in the new revision with the service's env, and installs the wrapped crontab", async () => {
    generates("# tokens\n*/30 * * * * bin/expire\n@daily bin/report\n");
    const answer = await install();
    const run = `/usr/local/bin/conductor run --id ${ID} --revision ${REVISION} --lock --`;
    expect(fs.readFileSync(file, "utf8")).toBe(
      [
        `# Installed by conductor for ${ID} at revision ${REVISION}; do not edit, each deploy rewrites it.`,
        "SHELL=/bin/sh",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "# tokens",
        `*/30 * * * *  root  ${run} /bin/sh -c 'bin/expire'`,
        `@daily  root  ${run} /bin/sh -c 'bin/report'`,
        "",
      ].join("\n"),
    );
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    // The hash of what it wrote, kept by the deploy for refresh to compare (cron read).
    const written = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    expect(answer).toStrictEqual({ jobs: 2, sha256: written });
    expect(host.trace).toEqual([
      `docker create ${RUNNER} ${REQUEST.image}:${REVISION}`,
      `docker wait ${RUNNER} next-exit`,
      `docker start ${RUNNER}`,
      `docker output ${RUNNER} stdout`,
      `docker output ${RUNNER} stderr`,
      `docker remove ${RUNNER}`,
    ]);
    expect(host.docker.containers.size).toBe(0);
    expect(host.log).toEqual([`${file}: 2 job(s) at revision ${REVISION}`]);
  });

  it("gives generate-cron the service's env and a conductor.run label", async () => {
    let seen: unknown;
    host.docker.onStart = (c) => {
      seen = { env: c.options.env, labels: c.options.labels, command: c.options.command };
      host.docker.exit(c.name, 0);
    };
    await install();
    expect(seen).toEqual({
      env: { SECRET: "hunter2" },
      labels: { "conductor.run": `${ID}-generate-cron` },
      command: ["bin/generate-cron"],
    });
  });

  it("leaves the installed file as it was when the crontab is invalid, naming the line", async () => {
    fs.writeFileSync(file, "previous\n");
    generates("*/30 * * * * bin/expire\n61 * * * * echo never\n");
    await expect(install()).rejects.toThrow(
      new RegExp(
        `^bin/generate-cron printed an invalid crontab; ${file} is unchanged:\\n` +
          "generate-cron output, line 2: `61 \\* \\* \\* \\* echo never` : bad minute",
      ),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous\n");
    expect(fs.readdirSync(host.fx.cronDir.dir)).toEqual([`conductor-${ID}`]);
  });

  it("fails with generate-cron's stderr when it exits non-zero, and removes its container", async () => {
    generates("", 2, "cannot connect to the database\n");
    await expect(install()).rejects.toThrow(
      new Error(
        `\`bin/generate-cron\` in ${REQUEST.image}:${REVISION} exited with 2:\ncannot connect to the database`,
      ),
    );
    expect(fs.existsSync(file)).toBe(false);
    expect(host.trace.at(-1)).toBe(`docker remove ${RUNNER}`);
  });
});

describe("cron remove", () => {
  it("removes the file, and says so", async () => {
    fs.writeFileSync(file, "previous\n");
    await cronRemove({ serviceId: ID }, host.logLine, host.fx);
    expect(fs.existsSync(file)).toBe(false);
    expect(host.log).toEqual([`${file}: removed`]);
  });

  it("does nothing without a file", async () => {
    await cronRemove({ serviceId: ID }, host.logLine, host.fx);
    expect(host.log).toEqual([]);
  });
});
