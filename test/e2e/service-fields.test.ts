// A service's runtime fields for real (issue 14), on this machine's Docker
// through the real CLI: what `docker inspect` shows for each field, a named
// volume shared by two replicas and kept across a deploy, 50 MB of logs kept
// under the log limit on disk, an allocation over the memory limit killed and
// brought back by the supervisor, SIGQUIT reaching the app at stop, and a
// worker's command health check gating a deploy and driving the supervisor.
// One stack, three deploys; prints what it measured.
//
// Not proved here: cpus as throttling (only NanoCpus in inspect), log drivers
// other than json-file, host-path volumes (the unit tests cover their Binds).
import * as fs from "node:fs";
import * as path from "node:path";
import { buildExample, containersOf, get } from "./docker";
import { run, TestStack } from "./harness";

const APP = "fld";
const STACK = "fields";
const A = "f1e1d01";
const B = "f1e1d02";
const C = "f1e1d03"; // built --unhealthy: /health answers 503
const LISTEN = 18112;
const VOLUME = `conductor-e2e-fields-${process.pid}`;
const SUPERVISE_LOG = "/var/log/conductor-supervise.log";
const MiB = 2 ** 20;
const id = (service: string) => `${APP}_${service}_${STACK}`;
const WORKER_CHECK = ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"];

function config(revisions: { web: string; worker: string }): Record<string, unknown> {
  const base = { image: "conductor-hello", hosts: ["box"], stopTimeout: "5s" };
  return {
    "conductor:app": APP,
    "conductor:revision": A,
    "conductor:hosts": { box: { address: "local" } },
    "conductor:services": {
      web: {
        ...base,
        revision: revisions.web,
        replicas: 2,
        http: {
          port: 8080,
          healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "15s" },
          nginx: { listen: LISTEN, serverName: "localhost" },
        },
        env: { SIGNAL_LOG: "/data/signals.log" },
        volumes: [`${VOLUME}:/data`],
        resources: { memory: "64m", cpus: 0.5 },
        logging: { driver: "json-file", options: { "max-size": "1m", "max-file": 2 } },
        stopSignal: "SIGQUIT",
        labels: { team: "payments" },
      },
      worker: {
        ...base,
        revision: revisions.worker,
        replicas: 1,
        user: "65534:65534",
        healthCheck: { command: WORKER_CHECK, timeout: "1s", interval: "200ms", deadline: "5s" },
      },
    },
  };
}

interface Inspected {
  Id: string;
  LogPath: string;
  State: { Status: string; StartedAt: string; OOMKilled: boolean };
  Config: { User: string; StopSignal?: string; Labels: Record<string, string> };
  HostConfig: {
    Binds: string[] | null;
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    LogConfig: { Type: string; Config: Record<string, string> };
  };
}

async function inspect(name: string): Promise<Inspected> {
  const result = await run("docker", ["inspect", name]);
  if (result.code !== 0) throw new Error(`docker inspect ${name}: ${result.output}`);
  return (JSON.parse(result.stdout) as Inspected[])[0];
}

/** The service's containers, slot 0 first. */
async function names(service: string): Promise<string[]> {
  return (await containersOf(id(service))).map((c) => c.name).sort();
}

const portOf = async (name: string) =>
  Number((await inspect(name)).Config.Labels["conductor.port"]);
const dockerExec = (name: string, ...command: string[]) =>
  run("docker", ["exec", name, ...command]);

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now() - started;
}

describe("a service's volumes, limits, logging, stop signal and command health check", () => {
  let stack: TestStack;
  let logStart = 0;
  const figures: string[] = [];
  const supervisorLog = () => fs.readFileSync(SUPERVISE_LOG, "utf8").slice(logStart);

  beforeAll(async () => {
    await Promise.all([buildExample(A), buildExample(B), buildExample(C, "--unhealthy")]);
    logStart = fs.existsSync(SUPERVISE_LOG) ? fs.statSync(SUPERVISE_LOG).size : 0;
    stack = await TestStack.create(STACK);
    await stack.writeConfig(config({ web: A, worker: A }));
    await stack.upOk();
  });

  afterAll(async () => {
    await stack?.dispose();
    await run("docker", ["volume", "rm", "-f", VOLUME]);
    console.log(`service fields figures:\n${figures.join("\n")}`);
  });

  afterEach(async () => {
    if (process.env.DEBUG) console.log(supervisorLog());
  });

  it("gives Docker every field: Binds, Memory without swap, NanoCpus, LogConfig, StopSignal, User, Labels", async () => {
    const [web0, web1] = await names("web");
    expect(web1).toBeDefined();
    const web = await inspect(web0);
    expect(web.HostConfig).toMatchObject({
      Binds: [`${VOLUME}:/data`],
      Memory: 64 * MiB,
      MemorySwap: 64 * MiB,
      NanoCpus: 500_000_000,
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
    });
    expect(web.Config.StopSignal).toBe("SIGQUIT");
    expect(web.Config.Labels).toMatchObject({ team: "payments", "conductor.service": id("web") });
    const [worker0] = await names("worker");
    const worker = await inspect(worker0);
    // No logging in config: the rotating default.
    expect(worker.HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-size": "10m", "max-file": "5" },
    });
    expect(worker.Config.User).toBe("65534:65534");
    expect((await dockerExec(worker0, "id", "-u")).stdout.trim()).toBe("65534");
  });

  it("shares a named volume between the two replicas", async () => {
    const [web0, web1] = await names("web");
    await dockerExec(web0, "sh", "-c", "echo written by replica 0 > /data/note");
    expect((await dockerExec(web1, "cat", "/data/note")).stdout).toBe("written by replica 0\n");
  });

  it("keeps 50 MB of logs under max-size x max-file on disk, and docker logs still reads them", async () => {
    const [web0] = await names("web");
    const port = await portOf(web0);
    const started = Date.now();
    const wrote = await run("curl", [
      "-sS",
      "--max-time",
      "120",
      `http://127.0.0.1:${port}/admin/log?mb=50`,
    ]);
    expect(wrote.stdout).toBe("wrote 50 MiB\n");
    const { LogPath } = await inspect(web0);
    const dir = path.dirname(LogPath);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(LogPath)));
    const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    figures.push(
      `  50 MiB of log lines in ${Date.now() - started} ms: ${files.length} files, ${(bytes / MiB).toFixed(2)} MiB on disk (limit 1m x 2)`,
    );
    expect(files.length).toBeLessThanOrEqual(2);
    // Each file rotates once it passes 1 MiB, so it can exceed it by one JSON line.
    expect(bytes).toBeLessThan(2 * MiB + 64 * 1024);
    const tail = await run("docker", ["logs", "--tail", "1", web0]);
    expect(tail.stdout).toMatch(/^x{1023}\n$/);
  });

  it("kills an allocation over the memory limit; the supervisor logs it as OOM and starts it again", async () => {
    const [, web1] = await names("web");
    const port = await portOf(web1);
    const before = (await inspect(web1)).State.StartedAt;
    await run("curl", ["-sS", "--max-time", "30", `http://127.0.0.1:${port}/admin/alloc?mb=200`]);
    const oomLine = new RegExp(
      `${id("web")} ${web1}: start \\(container stopped, (OOM-killed|killed by SIGKILL at its memory limit: likely OOM)`,
    );
    const ms = await until(
      "the supervisor to start the OOM-killed replica",
      async () =>
        oomLine.test(supervisorLog()) &&
        (await get(`http://127.0.0.1:${port}/health`)).status === 200,
    );
    const form = supervisorLog().match(oomLine)![1];
    figures.push(
      `  allocation over 64m -> killed, logged as "${form}", serving again: ${(ms / 1000).toFixed(1)} s`,
    );
    expect((await inspect(web1)).State.StartedAt).not.toBe(before);
  });

  it("restarts a worker whose command health check starts failing", async () => {
    const [worker0] = await names("worker");
    const before = (await inspect(worker0)).State.StartedAt;
    await dockerExec(
      worker0,
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "http://127.0.0.1:8080/admin/fail-health",
    );
    expect((await dockerExec(worker0, ...WORKER_CHECK)).code).not.toBe(0);
    const restarted = new RegExp(
      `${id("worker")} ${worker0}: restart \\(health check failed 3 times in a row`,
    );
    const ms = await until(
      "the supervisor to restart the worker",
      async () =>
        restarted.test(supervisorLog()) && (await dockerExec(worker0, ...WORKER_CHECK)).code === 0,
    );
    figures.push(`  worker check failing -> restarted and passing: ${(ms / 1000).toFixed(1)} s`);
    expect((await inspect(worker0)).State.StartedAt).not.toBe(before);
  });

  it("keeps the volume's data across a deploy, and stops the old replicas with SIGQUIT", async () => {
    await stack.writeConfig(config({ web: B, worker: A }));
    await stack.upOk();
    const [web0] = await names("web");
    expect(web0).toBeDefined();
    expect((await get(`http://127.0.0.1:${LISTEN}/`)).body).toBe(B);
    expect((await dockerExec(web0, "cat", "/data/note")).stdout).toBe("written by replica 0\n");
    // Each old replica wrote the signal it got into the shared volume as it stopped.
    expect((await dockerExec(web0, "cat", "/data/signals.log")).stdout).toBe(
      `${A} quit\n${A} quit\n`,
    );
  });

  it("fails a deploy whose worker never passes its command check, and keeps the old worker running", async () => {
    const [oldWorker] = await names("worker");
    await stack.writeConfig(config({ web: B, worker: C }));
    const result = await stack.up();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      "did not become healthy: command check: `wget -q -O /dev/null http://127.0.0.1:8080/health` exited with 1",
    );
    expect(await containersOf(id("worker"))).toEqual([{ name: oldWorker, state: "running" }]);
    expect((await dockerExec(oldWorker, ...WORKER_CHECK)).code).toBe(0);
  });
});
