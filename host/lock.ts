import * as fs from "node:fs";
import * as lockfile from "proper-lockfile";
import { locksDir } from "./paths";

/**
 * Runs `fn` holding a host-wide lock named `name`, so concurrent deploy steps on
 * one host (parallel container starts, nginx applies of different services) do
 * not interleave. A lock left by a killed process goes stale after 10 seconds.
 */
export async function withHostLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(locksDir(), { recursive: true, mode: 0o700 });
  const release = await lockfile.lock(`${locksDir()}/${name}`, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 1200, minTimeout: 50, maxTimeout: 100, factor: 1 },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Runs `fn` if the lock `name` is free, holding it meanwhile; resolves to
 * undefined without running when another process holds it. The holder
 * refreshes the lock while it runs, so a long job keeps it and a killed one
 * loses it within a minute.
 */
export async function withTryLock<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  fs.mkdirSync(locksDir(), { recursive: true, mode: 0o700 });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(`${locksDir()}/${name}`, {
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
}
