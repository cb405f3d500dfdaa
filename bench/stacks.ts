// What the benchmarks share: the services they deploy, the 50 x 3 x 3 preview
// stack, and how they time and summarize runs.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT, run, TestStack } from "../test/e2e/harness";

/** Tags of the bench's own image (its boot delay and drain are built in). */
export const REVISIONS = ["bed1a01", "bed1b02"];
export const IMAGE = "conductor-hello";

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** conductor:services: `count` http services behind nginx, `replicas` containers on each of `hosts`. */
export function services(
  count: number,
  replicas: number,
  hosts: string[],
  revision: string,
  listenBase: number,
  image = IMAGE,
) {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `web${i}`,
      {
        image,
        revision,
        hosts,
        replicas,
        http: {
          port: 8080,
          healthCheck: { path: "/health", timeout: "1s", interval: "100ms", deadline: "30s" },
          nginx: { listen: listenBase + i, serverName: "localhost" },
        },
        stopTimeout: "10s",
      },
    ]),
  );
}

/** A whole stack config: `count` services x `replicas` on this machine's Docker and nginx. */
export function localConfig(
  app: string,
  count: number,
  replicas: number,
  revision: string,
  listenBase: number,
) {
  return {
    "conductor:app": app,
    "conductor:hosts": { local: { address: "local" } },
    "conductor:services": services(count, replicas, ["local"], revision, listenBase),
  };
}

/** Builds the example at each of REVISIONS with the given boot delay and drain ("1.5s", "1s"). */
export async function buildBenchImages(bootDelay: string, drain: string): Promise<void> {
  for (const revision of REVISIONS) {
    const result = await run(
      "bash",
      ["examples/hello/build.sh", revision, "--boot-delay", bootDelay, "--drain", drain],
      { cwd: PROJECT_ROOT },
    );
    if (result.code !== 0) throw new Error(`building the example failed:\n${result.output}`);
  }
}

/** One timed `pulumi preview`: its wall-clock seconds, and the CPU seconds of it and every process it waited for. */
export interface PreviewTime {
  seconds: number;
  cpuSeconds: number;
}

/**
 * A stack of 50 services x 3 replicas on 3 hosts that do not exist (a preview
 * never reaches them): 957 resources. `preview` runs `pulumi preview` with
 * `args` and `env` added. The CPU time (GNU time: user + system of the CLI,
 * the language host, the program, the provider) varies less than the wall
 * clock on a busy machine.
 */
export async function previewOf50x3x3(name = "benchpv"): Promise<{
  stack: TestStack;
  preview: (args?: string[], env?: NodeJS.ProcessEnv) => Promise<PreviewTime>;
}> {
  const stack = await TestStack.create(name);
  const hosts = {
    h1: { address: "10.255.0.1" },
    h2: { address: "10.255.0.2" },
    h3: { address: "10.255.0.3" },
  };
  await stack.writeConfig({
    "conductor:app": name,
    "conductor:hosts": hosts,
    "conductor:services": services(50, 3, Object.keys(hosts), REVISIONS[0], 20000),
  });
  const cpuFile = path.join(stack.dir, "preview.cpu");
  const preview = async (args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const argv = ["preview", ...args, "--stack", name, "--config-file", stack.configFile];
    const start = process.hrtime.bigint();
    const result = await run(
      "/usr/bin/time",
      ["-f", "%U %S", "-o", cpuFile, "pulumi", ...argv, "--non-interactive"],
      { cwd: PROJECT_ROOT, env: { ...stack.env, ...env } },
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.code !== 0) throw new Error(`pulumi ${argv.join(" ")} failed:\n${result.output}`);
    const [user, system] = fs.readFileSync(cpuFile, "utf8").trim().split(" ").map(Number);
    return { seconds, cpuSeconds: user + system };
  };
  return { stack, preview };
}
