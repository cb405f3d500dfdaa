// `conductor run --id <id> [--revision <sha>] [-i] [--lock] [--] <command...>`:
// a one-off container of a service's image with the service's env, removed
// afterwards. The env goes through the Docker API (never a command line); the
// docker CLI only attaches to the container (`docker start -a[i]`), which
// passes stdin, stdout, stderr, the TTY, signals and the exit code through.
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as docker from "./docker";
import { withTryLock } from "./lock";
import { releaseFile, releasesDir } from "./paths";
import type { ReleaseRequest } from "../protocol/requests";

export const RUN_LABEL = "conductor.run";

export interface RunOptions {
  id: string;
  revision?: string;
  interactive: boolean;
  /** Skip (exit 0) when the same command of this service is still running. */
  lock: boolean;
  /** Names of variables of this process's environment to pass too. */
  envNames?: string[];
  command: string[];
}

export class UsageError extends Error {}

export function readRelease(id: string): ReleaseRequest {
  try {
    return JSON.parse(fs.readFileSync(releaseFile(id), "utf8")) as ReleaseRequest;
  } catch {
    const known = knownIds();
    throw new UsageError(
      `no service with id ${JSON.stringify(id)} is deployed on this host; deployed: ${known.length ? known.join(", ") : "none"}`,
    );
  }
}

function knownIds(): string[] {
  if (!fs.existsSync(releasesDir())) return [];
  return fs
    .readdirSync(releasesDir())
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

async function imageFor(release: ReleaseRequest, revision: string): Promise<string> {
  const ref = `${release.image}:${revision}`;
  if (await docker.imageExists(ref)) return ref;
  const present = await docker.imageTags(release.image);
  throw new UsageError(
    `revision ${revision} of ${release.image} is not on this host; present: ${present.length ? present.join(", ") : "none"}`,
  );
}

export async function runOneOff(options: RunOptions, log: (line: string) => void): Promise<number> {
  const release = readRelease(options.id);
  const image = await imageFor(release, options.revision ?? release.revision);
  if (!options.lock) return runContainer(release, image, options);
  const key = crypto
    .createHash("sha256")
    .update(options.command.join("\0"))
    .digest("hex")
    .slice(0, 16);
  const ran = await withTryLock(`run-${options.id}-${key}`, () =>
    runContainer(release, image, options),
  );
  if (ran === undefined) {
    log(`${options.id}: skipped \`${options.command.join(" ")}\`, its previous run is still going`);
    return 0;
  }
  return ran;
}

function fromOwnEnvironment(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]!]),
  );
}

/**
 * Runs a command in a throwaway container and collects its output, for the
 * deploy's own use (generate-cron). Rejects with its stderr when it fails.
 */
export async function runCaptured(
  image: string,
  command: string[],
  env: Record<string, string>,
  label: string,
): Promise<string> {
  const name = `${label}-${crypto.randomBytes(4).toString("hex")}`;
  await docker.createContainer({
    name,
    image,
    command,
    env,
    labels: { [RUN_LABEL]: label },
    stopTimeoutSeconds: 10,
  });
  try {
    const exitCode = docker.waitContainer(name, "next-exit");
    await docker.startContainer(name);
    const code = await exitCode;
    const [stdout, stderr] = await Promise.all([
      docker.containerOutput(name, "stdout"),
      docker.containerOutput(name, "stderr"),
    ]);
    if (code !== 0)
      throw new Error(
        `\`${command.join(" ")}\` in ${image} exited with ${code}:\n${stderr.trimEnd()}`,
      );
    return stdout;
  } finally {
    await docker.removeContainer(name);
  }
}

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

async function runContainer(
  release: ReleaseRequest,
  image: string,
  options: RunOptions,
): Promise<number> {
  const name = `${release.serviceId}-run-${crypto.randomBytes(4).toString("hex")}`;
  await docker.createContainer({
    name,
    image,
    command: options.command.length > 0 ? options.command : release.command,
    env: { ...release.env, ...fromOwnEnvironment(options.envNames ?? []) },
    labels: { [RUN_LABEL]: release.serviceId },
    stopTimeoutSeconds: 10,
    tty: options.interactive,
    openStdin: true,
    // Docker removes it when it exits, even if this process is killed.
    autoRemove: true,
  });
  const exitCode = docker.waitContainer(name, "removed");
  const forward = (signal: NodeJS.Signals) => void docker.killContainer(name, signal);
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  try {
    await attach(name, options.interactive);
    return await exitCode;
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    await docker.removeContainer(name);
  }
}

/**
 * `docker start --attach --interactive`: stdin, stdout, stderr and the TTY
 * pass through. Signals do not go through the CLI: it forwards one and exits
 * at once with status 0, dropping the task's last output and exit code (seen
 * with docker 28). We send them with the API (see runContainer) and get the
 * exit code from Docker. Without a TTY the CLI gets its own process group, so
 * a Ctrl-C in the terminal reaches only us; with one, Ctrl-C is a keystroke
 * the CLI must read from the terminal, in the foreground.
 */
function attach(name: string, interactive: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["start", "--attach", "--interactive", name], {
      stdio: "inherit",
      detached: !interactive,
    });
    child.on("error", reject);
    child.on("close", () => resolve());
  });
}
