// `conductor nginx apply|remove`: install or remove a service's nginx file,
// check the whole configuration, reload, and wait for the old workers to
// finish. Changes that arrive together go in one batch (nginx-batch.ts): one
// `nginx -t`, one reload, one wait for the old workers, for all of them.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { type HostEffects, hostEffects, type Log } from "./effects";
import { readJson, removeFile, writeFileAtomic } from "./files";
import {
  type BatchEffects,
  type Committer,
  type NginxChange,
  type Outcome,
  submitChange,
} from "./nginx-batch";
import type { NginxApplyRequest, ServiceRequest } from "../protocol/requests";

const DRAIN_TIMEOUT_MS = 60_000;

export type NginxEffects = Pick<HostEffects, "nginxConfDir" | "exec" | "clock" | "nginxWorkers"> &
  BatchEffects;

export const confName = (serviceId: string) => `conductor-${serviceId}.conf`;

export async function nginxApply(
  req: NginxApplyRequest,
  log: Log,
  fx: NginxEffects = hostEffects(),
): Promise<void> {
  await submitChange({ serviceId: req.serviceId, config: req.config }, committer(fx), log, fx);
}

export async function nginxRemove(
  req: ServiceRequest,
  log: Log,
  fx: NginxEffects = hostEffects(),
): Promise<void> {
  await submitChange({ serviceId: req.serviceId }, committer(fx), log, fx);
}

/**
 * The files a batch changes, as they were before it: written before the
 * first change, removed once the batch is reloaded or undone. One left behind
 * is a leader killed mid-batch, whose files the next leader puts back.
 */
const journal = z.record(z.string(), z.string().nullable());
type Journal = z.infer<typeof journal>;

function committer(fx: NginxEffects): Committer {
  const journalFile = path.join(fx.store.root, "nginx-batch", "journal.json");
  const restore = (previous: Journal, names = Object.keys(previous)) => {
    for (const name of names) {
      const text = previous[name];
      if (text === null) fx.nginxConfDir.remove(name);
      else fx.nginxConfDir.write(name, text);
    }
  };
  return {
    recover(log) {
      const left = readJson(journalFile, journal, "an nginx journal");
      if (left.status === "missing") return false;
      if (left.status === "ok") {
        restore(left.value);
        log(
          `nginx: a conductor process died while changing ${Object.keys(left.value)
            .map((n) => fx.nginxConfDir.path(n))
            .join(", ")}; put the previous files back`,
        );
      } else log(`nginx: ${left.message}; removed it`);
      removeFile(journalFile);
      // It may have reloaded already: nginx must run what the files now say.
      return true;
    },
    async commit(changes, mustReload, log) {
      const names = changes.map((c) => confName(c.serviceId));
      const previous: Journal = Object.fromEntries(
        names.map((n) => [n, fx.nginxConfDir.read(n) ?? null]),
      );
      fs.mkdirSync(path.dirname(journalFile), { recursive: true, mode: 0o700 });
      writeFileAtomic(journalFile, JSON.stringify(previous), 0o600);
      const errors = await install(changes, previous, restore, log, fx);
      const made = changes.filter(
        (c, i) => !errors[i] && (c.config ?? previous[names[i]]) !== null,
      );
      if (made.length > 0 || mustReload) {
        try {
          await reloadAndDrain(log, fx);
        } catch (err) {
          restore(previous);
          removeFile(journalFile);
          const error = `${(err as Error).message}; the previous files are back in place`;
          return changes.map(() => ({ error, log: [] }));
        }
      }
      removeFile(journalFile);
      return changes.map((c, i) => errors[i] ?? done(c, previous[names[i]], made.length, fx));
    },
  };
}

/**
 * Writes every change and checks them with one `nginx -t`. When it fails, puts
 * every file back and checks that nginx takes what was there before; when it
 * does, adds the changes again one at a time, in the order
 * they came, each checked with those already accepted: one service's bad file
 * fails that service alone, and each failure carries nginx's own message,
 * which names the file it could not take. Returns an outcome for each
 * rejected change.
 */
async function install(
  changes: NginxChange[],
  previous: Journal,
  restore: (previous: Journal, names?: string[]) => void,
  log: Log,
  fx: NginxEffects,
): Promise<(Outcome | undefined)[]> {
  for (const c of changes) write(c, fx);
  const all = await fx.exec("nginx", ["-t"]);
  if (all.code === 0) return changes.map(() => undefined);
  restore(previous);
  // A file that is not conductor's (nginx.conf) may be what nginx rejects:
  // then no change is to blame, and checking each would blame them all.
  const before = await fx.exec("nginx", ["-t"]);
  if (before.code !== 0) return changes.map(() => brokenBefore(before.stderr));
  if (changes.length === 1) return [rejected(changes[0], all.stderr, fx)];
  log(`nginx: nginx -t fails with the ${changes.length} changes of this batch; checking each`);
  const errors: (Outcome | undefined)[] = [];
  for (const c of changes) {
    write(c, fx);
    const check = await fx.exec("nginx", ["-t"]);
    if (check.code === 0) {
      errors.push(undefined);
    } else {
      restore(previous, [confName(c.serviceId)]);
      errors.push(rejected(c, check.stderr, fx));
    }
  }
  return errors;
}

function rejected(c: NginxChange, stderr: string, fx: NginxEffects): Outcome {
  const what = c.config === undefined ? "removing " : "";
  const file = fx.nginxConfDir.path(confName(c.serviceId));
  return {
    error: `nginx -t rejected ${what}${file}; the previous file is back in place:\n${stderr.trim()}`,
    log: [],
  };
}

function brokenBefore(stderr: string): Outcome {
  return {
    error: `nginx -t fails on this host's configuration before this deploy's changes: ${stderr.trim()}`,
    log: [],
  };
}

function write(c: NginxChange, fx: NginxEffects): void {
  if (c.config === undefined) fx.nginxConfDir.remove(confName(c.serviceId));
  else fx.nginxConfDir.write(confName(c.serviceId), c.config);
}

function done(c: NginxChange, before: string | null, reloaded: number, fx: NginxEffects): Outcome {
  if (c.config === undefined && before === null) return { log: [] }; // nothing to remove
  const file = fx.nginxConfDir.path(confName(c.serviceId));
  const others = reloaded > 1 ? ` (one reload for ${reloaded} sites of this host)` : "";
  const verb = c.config === undefined ? "removed" : "installed";
  return { log: [`${file}: ${verb}, nginx reloaded${others}`] };
}

/**
 * `nginx -s reload` only signals the master: workers of the old configuration
 * keep serving the requests they accepted, with the old upstreams, until those
 * finish. Stopping old containers before they are gone drops requests
 * (measured: 1 in 5 swaps), so wait for them.
 */
async function reloadAndDrain(log: Log, fx: NginxEffects): Promise<void> {
  const before = new Set(fx.nginxWorkers().running);
  await execOk(fx, "nginx", ["-s", "reload"]);
  const deadline = fx.clock.now() + DRAIN_TIMEOUT_MS;
  let reloaded = false;
  while (fx.clock.now() < deadline) {
    const { running, draining } = fx.nginxWorkers();
    reloaded ||= running.some((pid) => !before.has(pid));
    const allNew = running.length > 0 && running.every((pid) => !before.has(pid));
    if (allNew && draining === 0) return;
    await fx.clock.sleep(50);
  }
  // `nginx -s reload` exits 0 once it has signalled the master; a master that
  // cannot apply the new files (a port taken after nginx -t passed) keeps the
  // old workers and says so only in its error log. Going on would stop the
  // containers those workers still route to.
  if (!reloaded) {
    throw new Error(
      `nginx did not start workers of the new configuration within ${DRAIN_TIMEOUT_MS / 1000} s; see nginx's error log`,
    );
  }
  log(`nginx: old workers still draining after ${DRAIN_TIMEOUT_MS / 1000}s, going on`);
}

/** Like exec, but a non-zero exit is an error carrying the program's stderr. */
async function execOk(fx: Pick<HostEffects, "exec">, file: string, args: string[]) {
  const result = await fx.exec(file, args);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim();
    throw new Error(`${file} ${args[0] ?? ""} failed (exit ${result.code}): ${detail}`);
  }
  return result.stdout;
}
