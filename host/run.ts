// `conductor run --id <id> [--revision <sha>] [-i] [--lock] [--] <command...>`:
// a one-off container of a service's image with the service's env, removed
// afterwards (README: "One-off tasks and consoles"). The env goes through the
// Docker API (never a command line); the docker CLI only attaches to the
// container (attach.ts), which passes stdin, stdout, stderr, the TTY, signals
// and the exit code through.
import { DEFAULT_LOGGING } from "../protocol/requests";
import { runtimeOptions } from "./container";
import { type HostEffects, hostEffects, type Log } from "./effects";
import { StoreError } from "./files";
import { defaultStore, type HostStore, LABELS, LOCKS, type ReleaseRecord } from "./store";

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

export type RunEffects = Pick<
  HostEffects,
  "docker" | "store" | "locks" | "random" | "attach" | "processes"
>;

/**
 * The service's release, for `conductor run`, pause and resume. An id with no
 * release is the operator's mistake, answered with the ids there are; a
 * release that cannot be read is the host's, and says so.
 */
export function readRelease(id: string, store: HostStore = defaultStore()): ReleaseRecord {
  const read = store.readRelease(id);
  if (read.status === "ok") return read.value;
  if (read.status !== "missing") throw new StoreError(read);
  const known = store.releaseIds();
  throw new UsageError(
    `no service with id ${JSON.stringify(id)} is deployed on this host; deployed: ${known.length ? known.join(", ") : "none"}`,
  );
}

async function imageFor(
  release: ReleaseRecord,
  revision: string,
  fx: Pick<HostEffects, "docker">,
): Promise<string> {
  const ref = `${release.image}:${revision}`;
  if (await fx.docker.imageExists(ref)) return ref;
  const present = await fx.docker.imageTags(release.image);
  throw new UsageError(
    `revision ${revision} of ${release.image} is not on this host; present: ${present.length ? present.join(", ") : "none"}`,
  );
}

export async function runOneOff(
  options: RunOptions,
  log: Log,
  fx: RunEffects = hostEffects(),
): Promise<number> {
  const release = readRelease(options.id, fx.store);
  const image = await imageFor(release, options.revision ?? release.revision, fx);
  if (!options.lock) return runContainer(release, image, options, fx);
  const ran = await fx.locks.tryHold(LOCKS.run(options.id, options.command), () =>
    runContainer(release, image, options, fx),
  );
  if (ran === undefined) {
    log(`${options.id}: skipped \`${options.command.join(" ")}\`, its previous run is still going`);
    return 0;
  }
  return ran;
}

function fromOwnEnvironment(names: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n]!]));
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
  fx: Pick<HostEffects, "docker" | "random"> = hostEffects(),
): Promise<string> {
  const name = `${label}-${fx.random.hex(4)}`;
  await fx.docker.createContainer({
    name,
    image,
    command,
    env,
    labels: { [LABELS.run]: label },
    stopTimeoutSeconds: 10,
  });
  try {
    const exitCode = fx.docker.waitContainer(name, "next-exit");
    await fx.docker.startContainer(name);
    const code = await exitCode;
    const [stdout, stderr] = await Promise.all([
      fx.docker.containerOutput(name, "stdout"),
      fx.docker.containerOutput(name, "stderr"),
    ]);
    if (code !== 0)
      throw new Error(
        `\`${command.join(" ")}\` in ${image} exited with ${code}:\n${stderr.trimEnd()}`,
      );
    return stdout;
  } finally {
    await fx.docker.removeContainer(name);
  }
}

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

async function runContainer(
  release: ReleaseRecord,
  image: string,
  options: RunOptions,
  fx: RunEffects,
): Promise<number> {
  const name = `${release.serviceId}-run-${fx.random.hex(4)}`;
  await fx.docker.createContainer({
    name,
    image,
    command: options.command.length > 0 ? options.command : release.command,
    env: { ...release.env, ...fromOwnEnvironment(options.envNames ?? [], fx.processes.env) },
    labels: { ...release.labels, [LABELS.run]: release.serviceId },
    stopTimeoutSeconds: 10,
    ...runtimeOptions(release),
    // Not the service's driver: the output goes to the caller through attach
    // (and cron's mail), which needs nothing of it; the default rotates, so a
    // long console session cannot fill the disk either.
    logging: DEFAULT_LOGGING,
    tty: options.interactive,
    openStdin: true,
    // Docker removes it when it exits, even if this process is killed.
    autoRemove: true,
  });
  const exitCode = fx.docker.waitContainer(name, "removed");
  // Signals go to the container through the API: see attach.ts for why not the CLI.
  const stopForwarding = fx.processes.onSignals(
    FORWARDED_SIGNALS,
    (signal) => void fx.docker.killContainer(name, signal),
  );
  try {
    await fx.attach(name, options.interactive);
    return await exitCode;
  } finally {
    stopForwarding();
    await fx.docker.removeContainer(name);
  }
}
