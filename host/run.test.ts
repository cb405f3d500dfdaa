// `conductor run` against a fake Docker and a temp store: what it runs, with
// what, and what it says when the id, the revision or the release file is wrong.
import * as fs from "node:fs";
// The module object itself: its properties can be spied on, unlike an `import *` namespace's.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require("node:fs") as typeof fs;
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { type RunOptions, runOneOff, UsageError } from "./run";
import { LOCKS, type ReleaseRecord } from "./store";

const ID = "shop_web_production";
const RELEASE: ReleaseRecord = {
  serviceId: ID,
  image: "registry.example.com/shop/web",
  revision: "279d903",
  command: ["bin/web"],
  env: { SECRET: "hunter2", RAILS_ENV: "production" },
  containers: [],
  supervise: true,
};
const RUNNER = `${ID}-run-00000001`;

let host: FakeHost;
/** What the last `docker create` was given. */
let lastOptions: unknown;
beforeEach(() => {
  host = fakeHost();
  const create = host.docker.createContainer.bind(host.docker);
  host.docker.createContainer = async (o) => {
    lastOptions = o;
    return create(o);
  };
  host.store.writeRelease(RELEASE);
  host.store.writeRelease({ ...RELEASE, serviceId: "shop_api_production" });
  host.docker.images.add(`${RELEASE.image}:279d903`);
  host.docker.images.add(`${RELEASE.image}:0abc123`);
  // The command exits 7 once attached.
  host.fx.attach = async (name, interactive) => {
    host.trace.push(`attach ${name}${interactive ? " -i" : ""}`);
    host.docker.exit(name, 7);
  };
  host.trace.length = 0;
});
afterEach(() => {
  jest.restoreAllMocks();
  host.cleanup();
});

const options = (o: Partial<RunOptions> = {}): RunOptions => ({
  id: ID,
  interactive: false,
  lock: false,
  command: ["bin/rails", "db:migrate"],
  ...o,
});
const run = (o: Partial<RunOptions> = {}) => runOneOff(options(o), host.logLine, host.fx);

describe("conductor run", () => {
  it("runs the command in a throwaway container of the deployed revision and gives its exit code", async () => {
    expect(await run()).toBe(7);
    expect(host.trace).toEqual([
      `docker image ${RELEASE.image}:279d903`,
      `docker create ${RUNNER} ${RELEASE.image}:279d903`,
      `docker wait ${RUNNER} removed`,
      `attach ${RUNNER}`,
      `docker remove ${RUNNER}`,
    ]);
  });

  it("creates the container with the env, labels and terminal settings of the request", async () => {
    let options: unknown;
    const create = host.docker.createContainer.bind(host.docker);
    host.docker.createContainer = async (o) => {
      options = o;
      return create(o);
    };
    host.processes.env.CRON_VAR = "from cron";
    await run({ envNames: ["CRON_VAR", "UNSET"], interactive: true, command: [] });
    expect(options).toEqual({
      name: RUNNER,
      image: `${RELEASE.image}:279d903`,
      command: ["bin/web"], // no command: the release's
      env: { SECRET: "hunter2", RAILS_ENV: "production", CRON_VAR: "from cron" },
      labels: { "conductor.run": ID },
      stopTimeoutSeconds: 10,
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } },
      tty: true,
      openStdin: true,
      autoRemove: true,
    });
  });

  it("runs with the release's volumes, limits, user, stop signal and labels, and the rotating default log, not the service's", async () => {
    host.store.writeRelease({
      ...RELEASE,
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 },
      user: "app",
      stopSignal: "SIGQUIT",
      labels: { team: "payments" },
    });
    await run();
    expect(host.docker.containers.size).toBe(0); // removed after it exited
    const created = host.trace.find((t) => t.startsWith("docker create"));
    expect(created).toBe(`docker create ${RUNNER} ${RELEASE.image}:279d903`);
    expect(lastOptions).toEqual({
      name: RUNNER,
      image: `${RELEASE.image}:279d903`,
      command: ["bin/rails", "db:migrate"],
      env: { SECRET: "hunter2", RAILS_ENV: "production" },
      labels: { team: "payments", "conductor.run": ID },
      stopTimeoutSeconds: 10,
      volumes: [{ source: "uploads", target: "/app/uploads", readOnly: false }],
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      user: "app",
      stopSignal: "SIGQUIT",
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } },
      openStdin: true,
      tty: false,
      autoRemove: true,
    });
  });

  it("runs another revision that is on the host", async () => {
    await run({ revision: "0abc123" });
    expect(host.trace[1]).toBe(`docker create ${RUNNER} ${RELEASE.image}:0abc123`);
  });

  it("forwards SIGTERM to the container while it runs, and stops listening after", async () => {
    host.fx.attach = async (name) => {
      host.processes.signalHandlers.get("SIGTERM")!("SIGTERM");
      host.docker.exit(name, 143);
    };
    expect(await run()).toBe(143);
    expect(host.trace).toContain(`docker kill ${RUNNER} SIGTERM`);
    expect(host.processes.signalHandlers.size).toBe(0);
  });

  it("with --lock, runs under the command's lock", async () => {
    const lock = LOCKS.run(ID, ["bin/rails", "db:migrate"]);
    expect(lock).toMatch(new RegExp(`^run-${ID}-[0-9a-f]{16}$`));
    expect(await run({ lock: true })).toBe(7);
    expect(host.trace[1]).toBe(`lock ${lock}`);
    expect(host.trace.at(-1)).toBe(`unlock ${lock}`);
  });

  it("with --lock, skips (exit 0) while the same command of the service still runs", async () => {
    host.held.add(LOCKS.run(ID, ["bin/rails", "db:migrate"]));
    expect(await run({ lock: true })).toBe(0);
    expect(host.docker.containers.size).toBe(0);
    expect(host.log).toEqual([
      `${ID}: skipped \`bin/rails db:migrate\`, its previous run is still going`,
    ]);
  });

  it("lists the deployed ids for an id that is not deployed", async () => {
    const error = await run({ id: "shop_wbe_production" }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'no service with id "shop_wbe_production" is deployed on this host; deployed: shop_api_production, shop_web_production',
    );
  });

  it("says none are deployed on a host without releases", async () => {
    host.store.removeRelease(ID);
    host.store.removeRelease("shop_api_production");
    await expect(run()).rejects.toThrow(
      new UsageError(`no service with id "${ID}" is deployed on this host; deployed: none`),
    );
  });

  it("lists the revisions present for one that is not", async () => {
    const error = await run({ revision: "1111111" }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `revision 1111111 of ${RELEASE.image} is not on this host; present: 0abc123, 279d903`,
    );
  });

  it("says the release cannot be read when reading it is denied, not that the service is not deployed", async () => {
    const file = host.store.releaseFile(ID);
    const readFileSync = fs.readFileSync;
    jest.spyOn(nodeFs, "readFileSync").mockImplementation(((
      path: fs.PathOrFileDescriptor,
      ...rest
    ) => {
      if (path !== file) return (readFileSync as (...a: unknown[]) => unknown)(path, ...rest);
      throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), {
        code: "EACCES",
      });
    }) as typeof fs.readFileSync);
    const error = await run().catch((e: Error) => e);
    expect(error).not.toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`cannot read ${file}: EACCES: permission denied`);
  });

  it("says what is wrong with a release file that is not a release", async () => {
    const file = host.store.releaseFile(ID);
    fs.writeFileSync(file, JSON.stringify({ ...RELEASE, containers: undefined }));
    await expect(run()).rejects.toThrow(
      new Error(
        `${file} is not a release: containers: Invalid input: expected array, received undefined`,
      ),
    );
  });
});
