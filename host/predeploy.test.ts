// `conductor predeploy run` against a fake Docker: the throwaway container
// (image of the new revision, env through the API, the service's runtime, a
// conductor.run label), removed after success, failure and timeout; the error
// texts. Not proven here: that Docker kills and removes it (the e2e test runs it).
import type { PredeployRequest } from "../protocol/requests";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { OUTPUT_LINES, predeployRun } from "./predeploy";

const ID = "shop_web_production";
const REVISION = "279d9035886d4c0427549863c4c2101e4a63e041";
const REQUEST: PredeployRequest = {
  serviceId: ID,
  image: "registry.example.com/shop/web",
  revision: REVISION,
  env: { SECRET: "hunter2" },
  command: ["bin/rails", "db:migrate"],
  timeoutMs: 5000,
  volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
  user: "app",
  labels: { team: "payments" },
};
const RUNNER = `${ID}-predeploy-00000001`;
const WHAT = `predeploy \`bin/rails db:migrate\` of ${ID} at revision ${REVISION}`;
const UNTOUCHED = "nothing of the service changed, its old containers keep serving";

let host: FakeHost;
beforeEach(() => (host = fakeHost()));
afterEach(() => host.cleanup());

/** The command prints `stdout` and `stderr` and exits with `code`. */
function exits(code: number, stdout = "", stderr = "") {
  host.docker.onStart = (c) => {
    Object.assign(c, { stdout, stderr });
    host.docker.exit(c.name, code);
  };
}

const run = () => predeployRun(REQUEST, host.logLine, host.fx);

describe("predeploy run", () => {
  it("runs the command in the new revision with the env and runtime, returns its output and removes it", async () => {
    exits(0, "== CreateUsers: migrated\n");
    await expect(run()).resolves.toEqual({ output: "== CreateUsers: migrated" });
    expect(host.docker.containers.has(RUNNER)).toBe(false);
    expect(host.trace).toEqual([
      `docker create ${RUNNER} ${REQUEST.image}:${REVISION}`,
      `docker wait ${RUNNER} next-exit`,
      `docker start ${RUNNER}`,
      `docker output ${RUNNER} stdout`,
      `docker output ${RUNNER} stderr`,
      `docker remove ${RUNNER}`,
    ]);
    expect(host.log).toEqual([`${WHAT} succeeded`]);
  });

  it("gives the container the env through the API, the runtime fields and a conductor.run label", async () => {
    let options: unknown;
    host.docker.onStart = (c) => {
      options = c.options;
      host.docker.exit(c.name, 0);
    };
    await run();
    expect(options).toMatchObject({
      command: ["bin/rails", "db:migrate"],
      env: { SECRET: "hunter2" },
      labels: { team: "payments", "conductor.run": `${ID}-predeploy` },
      volumes: REQUEST.volumes,
      user: "app",
    });
  });

  it("fails with the exit code and its last lines, and removes the container", async () => {
    exits(1, "== CreateUsers: migrating\n", "PG::UndefinedTable\n");
    await expect(run()).rejects.toThrow(
      `${WHAT} exited with 1; ${UNTOUCHED}. Its last lines:\n== CreateUsers: migrating\nPG::UndefinedTable`,
    );
    expect(host.docker.containers.has(RUNNER)).toBe(false);
  });

  it("says so when a failed command printed nothing", async () => {
    exits(3);
    await expect(run()).rejects.toThrow(
      `${WHAT} exited with 3; ${UNTOUCHED}, and it printed nothing`,
    );
  });

  it("shows only the last lines of a long output", async () => {
    const lines = Array.from({ length: OUTPUT_LINES + 10 }, (_, i) => `line ${i}`);
    exits(1, `${lines.join("\n")}\n`);
    const err = (await run().catch((e: Error) => e)) as Error;
    expect(err.message.split("\n").slice(1)).toEqual(lines.slice(-OUTPUT_LINES));
  });

  it("kills the command at the timeout, fails and removes the container", async () => {
    host.docker.onStart = (c) => Object.assign(c, { stdout: "waiting for a lock\n" });
    await expect(run()).rejects.toThrow(
      `${WHAT} did not finish within 5000 ms and was killed; ${UNTOUCHED}. Its last lines:\nwaiting for a lock`,
    );
    expect(host.trace).toContain(`docker kill ${RUNNER} SIGKILL`);
    expect(host.docker.containers.has(RUNNER)).toBe(false);
  });
});
