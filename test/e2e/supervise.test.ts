// conductor supervise, for real: the deploy starts it on this machine (no
// systemd here, so cron's watchdog and `supervise --restart`); we kill, remove
// and sicken containers under load through nginx and watch it bring them back
// with the same name and port, back off a crash loop, and leave paused and
// unsupervised services alone. Prints the recovery times it measured.
//
// Not proved here: the systemd unit (no systemd on this machine).
import * as fs from "node:fs";
import { buildExample, containersOf, get } from "./docker";
import { TestStack, run, until } from "./harness";
import { answersHealth } from "./machine";
import { type Load, startLoad } from "./load";

const REVISION = "5a5a5a5";
const APP = "sup";
const LISTEN = 18106;
const LOG = "/var/log/conductor-supervise.log";
const id = (service: string) => `${APP}_${service}_sup`;

interface Record_ {
  name: string;
  hostPort?: number;
}
const recordOf = (name: string): Record_ =>
  JSON.parse(fs.readFileSync(`/var/lib/conductor/containers/${name}.json`, "utf8")) as Record_;

const stateOf = async (service: string, name: string) =>
  (await containersOf(id(service))).find((c) => c.name === name)?.state;
const conductor = (...args: string[]) => run("/usr/local/bin/conductor", args);

describe("conductor supervise", () => {
  let stack: TestStack;
  let load: Load;
  let logStart = 0;
  const figures: string[] = [];
  const supervisorLog = () => fs.readFileSync(LOG, "utf8").slice(logStart);

  beforeAll(async () => {
    await buildExample(REVISION);
    logStart = fs.existsSync(LOG) ? fs.statSync(LOG).size : 0;
    stack = await TestStack.create("sup");
    const base = { image: "conductor-hello", hosts: ["box"], stopTimeout: "5s" };
    await stack.writeConfig({
      "conductor:app": APP,
      "conductor:revision": REVISION,
      "conductor:hosts": { box: { address: "local" } },
      "conductor:services": {
        web: {
          ...base,
          replicas: 2,
          http: {
            port: 8080,
            healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "15s" },
            nginx: { listen: LISTEN, serverName: "localhost" },
          },
        },
        crashy: { ...base, replicas: 1, env: { CRASH_AFTER: "3s" } },
        idle: { ...base, replicas: 1, supervise: false },
      },
    });
    await stack.upOk();
    load = startLoad(`http://127.0.0.1:${LISTEN}/`, { concurrency: 2 });
  });

  afterAll(async () => {
    await load?.stop();
    await conductor("resume", id("web"));
    await stack?.dispose();
    console.log(`supervision figures:\n${figures.join("\n")}`);
  });

  afterEach(() => {
    // Enough to diagnose a failure from the CI log alone.
    if (expect.getState().currentTestName && process.env.DEBUG) console.log(supervisorLog());
  });

  it("runs after the deploy", async () => {
    const pid = Number(fs.readFileSync("/var/lib/conductor/supervise.pid", "utf8"));
    expect(() => process.kill(pid, 0)).not.toThrow();
    const cron = fs.readFileSync("/etc/cron.d/conductor-supervise", "utf8");
    expect(cron).toContain("\n@reboot root /usr/local/bin/conductor supervise --background");
    expect(cron).toContain("\n* * * * * root /usr/local/bin/conductor supervise --background");
  });

  it("holds a killed replica out of nginx and puts it back when cron started it", async () => {
    // Cron's environment: PATH=/usr/bin:/bin, where nginx (/usr/sbin) is not.
    const cronEnv = { PATH: "/usr/bin:/bin", HOME: "/root", SHELL: "/bin/sh" };
    await run(process.execPath, ["/usr/local/bin/conductor", "supervise", "--restart"], {
      env: cronEnv,
    });
    const from = fs.statSync(LOG).size;
    const logSince = () => fs.readFileSync(LOG, "utf8").slice(from);
    const [web0] = await containersOf(id("web"));
    await run("docker", ["kill", web0.name]);
    await until("the killed replica to be back in nginx", async () =>
      logSince().includes(`${web0.name}: answers its health check`),
    );
    expect(logSince()).toContain(`${web0.name}: held out of nginx`);
    expect(logSince()).toContain("back in nginx");
    expect(logSince()).not.toMatch(/could not|ENOENT/);
  });

  it("starts a killed container again, on the same port", async () => {
    const [web0] = await containersOf(id("web"));
    const { hostPort } = recordOf(web0.name);
    await run("docker", ["kill", web0.name]);
    const ms = await until("the killed replica to serve again", async () =>
      answersHealth(hostPort!),
    );
    figures.push(`  docker kill -> serving again: ${(ms / 1000).toFixed(1)} s`);
    expect(await stateOf("web", web0.name)).toBe("running");
    expect(supervisorLog()).toMatch(
      new RegExp(`${id("web")} ${web0.name}: start \\(container stopped`),
    );
  });

  it("recreates a removed container with the same name and port", async () => {
    const web1 = (await containersOf(id("web")))[1];
    const { hostPort } = recordOf(web1.name);
    await run("docker", ["rm", "-f", web1.name]);
    const ms = await until("the removed replica to serve again", async () =>
      answersHealth(hostPort!),
    );
    figures.push(`  docker rm -f -> serving again: ${(ms / 1000).toFixed(1)} s`);
    expect(await stateOf("web", web1.name)).toBe("running");
    expect(supervisorLog()).toMatch(new RegExp(`${web1.name}: recreate \\(container missing`));
  });

  it("restarts a container whose health check keeps failing", async () => {
    const [web0] = await containersOf(id("web"));
    const { hostPort } = recordOf(web0.name);
    await get(`http://127.0.0.1:${hostPort}/admin/fail-health`);
    expect(await answersHealth(hostPort!)).toBe(false);
    const ms = await until("the sick replica to be restarted", async () =>
      answersHealth(hostPort!),
    );
    figures.push(`  health failing -> restarted and healthy: ${(ms / 1000).toFixed(1)} s`);
    expect(supervisorLog()).toMatch(
      new RegExp(`${web0.name}: restart \\(health check failed 3 times in a row`),
    );
  });

  it("backs off a crash loop, and never gives up", async () => {
    await until(
      "two restarts of the crashing container",
      async () => {
        const status = JSON.parse((await conductor("status", "--json")).stdout) as {
          id: string;
          containers: { restarts: number }[];
        }[];
        return (status.find((s) => s.id === id("crashy"))?.containers[0]?.restarts ?? 0) >= 2;
      },
      90_000,
    );
    expect(supervisorLog()).toMatch(
      new RegExp(`${id("crashy")} .*: waiting until .* \\(container stopped, backing off\\)`),
    );
  });

  it("leaves a paused service alone until it is resumed", async () => {
    expect((await conductor("pause", id("web"))).code).toBe(0);
    const [web0] = await containersOf(id("web"));
    await run("docker", ["kill", web0.name]);
    await new Promise((r) => setTimeout(r, 12_000)); // two passes and more
    expect(await stateOf("web", web0.name)).toBe("exited");
    expect((await conductor("status")).stdout).toMatch(
      new RegExp(`${id("web")}\\s+\\S+\\s+paused\\s+2\\s+1`),
    );
    expect((await conductor("resume", id("web"))).code).toBe(0);
    await until(
      "the resumed service's replica to run",
      async () => (await stateOf("web", web0.name)) === "running",
    );
  });

  it("leaves a service with supervise: false alone", async () => {
    const [idle] = await containersOf(id("idle"));
    await run("docker", ["kill", idle.name]);
    await new Promise((r) => setTimeout(r, 12_000));
    expect(await stateOf("idle", idle.name)).toBe("exited");
    expect((await conductor("status")).stdout).toMatch(new RegExp(`${id("idle")}\\s+\\S+\\s+off`));
  });

  it("dropped no request while a healthy replica remained", async () => {
    const report = await load.stop();
    figures.push(`  load through nginx: ${JSON.stringify(report)}`);
    expect(report.failureReasons).toEqual({});
    expect(report.requests).toBeGreaterThan(100);
  });
});
