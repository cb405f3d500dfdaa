import * as fs from "node:fs";
import * as path from "node:path";
import * as lockfile from "proper-lockfile";

/** Host-wide locks by name (store.ts LOCKS), so concurrent conductor processes on a host do not interleave. */
export interface Locks {
  /** Runs `fn` holding the lock `name`, waiting (up to about two minutes) for it. */
  hold<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the lock if it is free; undefined, without running, when another process holds it. */
  tryHold<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
}

/**
 * Locks as proper-lockfile directories in `dir` (the store's locks/, made
 * root-only). proper-lockfile judges a lock stale by its age alone, so a host
 * that rebooted within a minute found its locks still held by processes that
 * no longer existed, the supervisor's above all. No process outlives a boot:
 * a lock last refreshed before this boot began is stale, whatever its age.
 */
export function fileLocks(dir: string, bootTimeMs: () => number | undefined): Locks {
  let bootTime: number | undefined;
  const lockPath = (name: string) => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, name);
    bootTime ??= bootTimeMs();
    if (bootTime !== undefined) removeIfOlder(`${file}.lock`, bootTime);
    return file;
  };
  return {
    // Deploy steps (parallel container starts, nginx applies of different
    // services) wait for each other; a lock left by a killed process goes
    // stale after 10 seconds.
    async hold(name, fn) {
      const release = await lockfile.lock(lockPath(name), {
        realpath: false,
        stale: 10_000,
        retries: { retries: 1200, minTimeout: 50, maxTimeout: 100, factor: 1 },
      });
      try {
        return await fn();
      } finally {
        await release();
      }
    },
    // The holder refreshes the lock while it runs, so a long job (the
    // supervisor, a cron job) keeps it and a killed one loses it within a minute.
    async tryHold(name, fn) {
      let release: () => Promise<void>;
      try {
        release = await lockfile.lock(lockPath(name), {
          realpath: false,
          stale: 60_000,
          retries: 0,
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ELOCKED") return undefined;
        throw err;
      }
      try {
        return await fn();
      } finally {
        await release();
      }
    },
  };
}

/** Removes the lock directory `lock` if it was last refreshed before `time`. */
function removeIfOlder(lock: string, time: number): void {
  const stat = fs.statSync(lock, { throwIfNoEntry: false });
  if (!stat || stat.mtimeMs >= time) return;
  try {
    fs.rmdirSync(lock);
  } catch (err) {
    // Another process found it stale too and removed it first.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
