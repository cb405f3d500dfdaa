// fleet:index:Predeploy against a fake host: the argv and the request on stdin
// of `conductor predeploy run` (the env only on stdin), the outputs (secrets
// still wrapped), its diff (a new revision runs it, nothing else does), and,
// with the host command run in-process on a fake Docker, the error an operator
// reads when it fails. Not proven here: that the engine runs it before the
// containers (components/fleet.test.ts checks the dependencies, e2e the order).
import type { Connection } from "../protocol/connection";
import { checkRequest } from "../protocol/requests";
import { fakeHost as fakeDockerHost } from "../host/fakes.testutil";
import { predeployRun } from "../host/predeploy";
import { predeployHandler } from "./resources/predeploy";
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
const SERVICE_ID = "shop_web_production";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const NEXT = "0".repeat(40);
const IMAGE = "registry.example.com/shop/web";
const ENV = { DATABASE_URL: "postgres://app:hunter2@db/app" };

const REQUEST = {
  serviceId: SERVICE_ID,
  image: IMAGE,
  revision: SHA,
  env: ENV,
  command: ["bin/rails", "db:migrate"],
  timeoutMs: 600_000,
  user: "app",
};
/** As the engine sends them: the connection and the env secret. */
const INPUTS = { ...REQUEST, connection: secret(APP_1), env: secret(ENV) };
const RAN = '{"output":"== CreateUsers: migrated"}';

const neverRuns: RunOnHost = async (_conn, argv) => {
  throw new Error(`nothing should run, but ${argv.join(" ")} did`);
};

describe("a predeploy", () => {
  it("is created by `conductor predeploy run` with the env revealed, named by its service id", async () => {
    const host = scriptedHost(RAN);
    const result = await predeployHandler.create(INPUTS, host.run);
    expect(host.calls.map((c) => [c.conn, c.argv, JSON.parse(c.input)])).toStrictEqual([
      [APP_1, [CONDUCTOR, "predeploy", "run"], REQUEST],
    ]);
    expect(result).toStrictEqual({ id: SERVICE_ID, outs: INPUTS });
    expect(containsSecret(result.outs?.env)).toBe(true);
  });

  it("sends the env on stdin only: not in argv, nor in the ssh command line", async () => {
    const host = scriptedHost(RAN);
    await predeployHandler.create(INPUTS, host.run);
    const [{ conn, argv, input }] = host.calls;
    const [file, args] = hostCommand(conn, argv);
    expect([file, ...args].join(" ")).not.toContain("hunter2");
    expect(JSON.parse(input).env).toStrictEqual(ENV);
  });

  it("is updated by running it again with the new inputs", async () => {
    const news = { ...INPUTS, revision: NEXT };
    const host = scriptedHost(RAN);
    await expect(predeployHandler.update(INPUTS, news, host.run)).resolves.toStrictEqual({
      outs: news,
    });
    expect(JSON.parse(host.calls[0].input)).toStrictEqual({ ...REQUEST, revision: NEXT });
  });

  it("shows its output in the deploy's output, on create and on update", async () => {
    const said: string[] = [];
    const say = async (message: string) => void said.push(message);
    await predeployHandler.create(INPUTS, scriptedHost(RAN).run, say);
    await predeployHandler.update(
      INPUTS,
      { ...INPUTS, revision: NEXT },
      scriptedHost('{"output":""}').run,
      say,
    );
    expect(said).toStrictEqual([
      "host app-1: predeploy `bin/rails db:migrate` succeeded; its last lines:\n== CreateUsers: migrated",
      "host app-1: predeploy `bin/rails db:migrate` succeeded, and printed nothing",
    ]);
  });

  it("is deleted without running anything", async () => {
    await expect(predeployHandler.delete(INPUTS, neverRuns)).resolves.toBeUndefined();
  });

  it("fails the deploy with the exit code and the last lines of its output", async () => {
    const docker = fakeDockerHost();
    try {
      docker.docker.onStart = (c) => {
        Object.assign(c, { stdout: "== CreateUsers: migrating\n", stderr: "PG::UndefinedTable\n" });
        docker.docker.exit(c.name, 1);
      };
      // The host command in-process, its error written as host/main.ts writes it.
      const run: RunOnHost = async (conn, _argv, input) => {
        const request = checkRequest("predeploy run", JSON.parse(input));
        try {
          return JSON.stringify(await predeployRun(request, () => undefined, docker.fx));
        } catch (err) {
          throw new HostCommandError(
            `host ${conn.host}: ${describeFailure(conn, 1, `conductor: ${(err as Error).message}\n`)}`,
          );
        }
      };
      await expect(predeployHandler.create(INPUTS, run)).rejects.toThrow(
        `host app-1: predeploy \`bin/rails db:migrate\` of ${SERVICE_ID} at revision ${SHA} exited with 1; ` +
          "nothing of the service changed, its old containers keep serving. Its last lines:\n" +
          "== CreateUsers: migrating\nPG::UndefinedTable",
      );
    } finally {
      docker.cleanup();
    }
  });
});

const replace = (key: string) => ({ changes: true, replaces: [key], deleteBeforeReplace: false });
const update = { changes: true, replaces: [], deleteBeforeReplace: false };
const none = { changes: false, replaces: [], deleteBeforeReplace: false };

describe("a predeploy's diff", () => {
  it("replaces it for another service id", () => {
    const news = { ...INPUTS, serviceId: "shop_web_staging" };
    expect(predeployHandler.diff(INPUTS, news)).toStrictEqual(replace("serviceId"));
  });

  it.each<[string, Record<string, unknown>]>([
    ["another revision", { revision: NEXT }],
    ["another image", { image: "registry.example.com/shop/api" }],
  ])("runs it again (an update) for %s", (_, change) => {
    expect(predeployHandler.diff(INPUTS, { ...INPUTS, ...change })).toStrictEqual(update);
  });

  // Each would rerun a migration of the revision already deployed.
  it.each<[string, Record<string, unknown>]>([
    ["another env", { env: secret({ DATABASE_URL: "postgres://other" }) }],
    ["another command", { command: ["bin/migrate"] }],
    ["another timeout", { timeoutMs: 60_000 }],
    ["another host", { connection: secret({ ...APP_1, host: "app-2", address: "10.0.1.12" }) }],
    ["the same inputs, however the secrets are wrapped", { env: ENV, connection: APP_1 }],
  ])("does not run it again for %s", (_, change) => {
    expect(predeployHandler.diff(INPUTS, { ...INPUTS, ...change })).toStrictEqual(none);
  });
});
