// `conductor nginx apply|remove`: install or remove a service's nginx file,
// check the whole configuration, reload, and wait for the old workers to
// finish. Changes that arrive together go in one batch (nginx-batch.ts): one
// `nginx -t`, one reload, one wait for the old workers, for all of them.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { type HostEffects, hostEffects, type Log } from "./effects";
import type { ExecOptions } from "./exec";
import { readJson, removeFile, writeFileAtomic } from "./files";
import { type HeldPorts, heldIn, withHolds } from "./nginx-holds";
import {
  type BatchEffects,
  type Committer,
  type NginxChange,
  type Outcome,
  submitChange,
} from "./nginx-batch";
import type { NginxApplyRequest, ServiceRequest } from "../protocol/requests";

const DRAIN_TIMEOUT_MS = 60_000;
/**
 * `nginx -t` and `nginx -s reload` are killed after this: a hung nginx (a
 * resolver that never answers, a full disk) would hold every deploy's and
 * the supervisor's nginx changes on this host behind its lock forever.
 */
const NGINX_TIMEOUT = { timeoutMs: 60_000 };
/**
 * How long a batch of holds alone waits for the old workers: long enough for
 * the requests they hold to finish (the replica about to be repaired is still
 * running), short enough that a long-lived request (a download, a WebSocket)
 * does not hold a repair back; repairing matters more than the hold.
 */
export const HOLD_DRAIN_MS = 2_000;

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

/**
 * Writes the service's nginx file again with the supervisor's holds as they
 * are now (nginx-holds.ts), and reloads if that changed it; for the supervisor.
 * With `waitMs`, "pending" once that long has passed without an answer (a
 * deploy's batch holds the nginx lock): the change is still made, later.
 */
export async function nginxHolds(
  serviceId: string,
  log: Log,
  fx: NginxEffects = hostEffects(),
  waitMs?: number,
): Promise<"made" | "pending"> {
  return submitChange({ serviceId, holds: true }, committer(fx), log, fx, waitMs);
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
        const files = Object.keys(left.value).map((n) => fx.nginxConfDir.path(n));
        log(
          files.length > 0
            ? `nginx: a batch left unfinished (its process died, or its nginx -t or reload failed) changed ${files.join(", ")}; put the previous files back`
            : "nginx: a batch left unfinished may not have reloaded nginx; reloading it",
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
      // The holds as they are now, under the nginx lock, applied to the file
      // as it is now: never to a text read before (a deploy may have written since).
      const holds = heldPorts(fx, log);
      const texts = changes.map((c, i) => textOf(c, previous[names[i]], holds(c.serviceId)));
      // Holds that change no file (already there, or no file): nothing to check or reload.
      const noop = (c: NginxChange, i: number) => c.holds && texts[i] === previous[names[i]];
      if (!mustReload && changes.every(noop)) {
        return changes.map((c, i) => done(c, texts[i], previous[names[i]], 0, fx));
      }
      fs.mkdirSync(path.dirname(journalFile), { recursive: true, mode: 0o700 });
      writeFileAtomic(journalFile, JSON.stringify(previous), 0o600);
      const errors = await install(changes, texts, previous, restore, log, fx);
      const made = changes.filter(
        (c, i) => !errors[i] && reloadsFor(c, texts[i], previous[names[i]]),
      );
      if (made.length > 0 || mustReload) {
        try {
          const holdsOnly = changes.length > 0 && changes.every((c) => c.holds);
          const drainMs = holdsOnly ? HOLD_DRAIN_MS : DRAIN_TIMEOUT_MS;
          await reloadAndDrain(log, fx, drainMs);
        } catch (err) {
          restore(previous);
          removeFile(journalFile);
          const error = `${(err as Error).message}; the previous files are back in place`;
          return changes.map(() => ({ error, log: [] }));
        }
      }
      removeFile(journalFile);
      return changes.map(
        (c, i) => errors[i] ?? done(c, texts[i], previous[names[i]], made.length, fx),
      );
    },
  };
}

/** Service id -> its held ports, from the supervisor's holds file (none when unreadable). */
function heldPorts(fx: NginxEffects, log: Log): (serviceId: string) => HeldPorts {
  const read = fx.store.readHolds();
  if (read.status === "corrupt") log(`nginx: ${read.message}; no replica held out`);
  const holds = read.status === "ok" ? read.value : {};
  return (serviceId) =>
    new Map(Object.values(holds[serviceId] ?? {}).map((h) => [h.port, h.since]));
}

/** What the change writes: the file's text with the holds, or null for no file. */
function textOf(c: NginxChange, before: string | null, held: HeldPorts): string | null {
  if (c.holds) return before === null ? null : withHolds(before, held);
  return c.config === undefined ? null : withHolds(c.config, held);
}

/**
 * Whether nginx must reload for the change: a deploy's file always (as
 * before holds), a removal when there was a file, holds when they changed it.
 */
function reloadsFor(c: NginxChange, text: string | null, before: string | null): boolean {
  if (c.holds) return text !== before;
  return (text ?? before) !== null;
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
  texts: (string | null)[],
  previous: Journal,
  restore: (previous: Journal, names?: string[]) => void,
  log: Log,
  fx: NginxEffects,
): Promise<(Outcome | undefined)[]> {
  changes.forEach((c, i) => write(c, texts[i], fx));
  const all = await fx.exec("nginx", ["-t"], NGINX_TIMEOUT);
  if (all.code === 0) return changes.map(() => undefined);
  restore(previous);
  // A file that is not conductor's (nginx.conf) may be what nginx rejects:
  // then no change is to blame, and checking each would blame them all.
  const before = await fx.exec("nginx", ["-t"], NGINX_TIMEOUT);
  if (before.code !== 0) return changes.map(() => brokenBefore(before.stderr));
  if (changes.length === 1) return [rejected(changes[0], all.stderr, fx)];
  log(`nginx: nginx -t fails with the ${changes.length} changes of this batch; checking each`);
  const errors: (Outcome | undefined)[] = [];
  for (const [i, c] of changes.entries()) {
    write(c, texts[i], fx);
    const check = await fx.exec("nginx", ["-t"], NGINX_TIMEOUT);
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
  const what = c.holds ? "holding replicas out of " : c.config === undefined ? "removing " : "";
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

function write(c: NginxChange, text: string | null, fx: NginxEffects): void {
  if (text === null) fx.nginxConfDir.remove(confName(c.serviceId));
  else fx.nginxConfDir.write(confName(c.serviceId), text);
}

function done(
  c: NginxChange,
  text: string | null,
  before: string | null,
  reloaded: number,
  fx: NginxEffects,
): Outcome {
  const file = fx.nginxConfDir.path(confName(c.serviceId));
  if (c.holds && before === null) {
    return { error: `nginx: no file ${file} to hold replicas of ${c.serviceId} out of`, log: [] };
  }
  if (c.holds && text === before) return { log: [] };
  if (c.config === undefined && before === null) return { log: [] }; // nothing to remove
  const others = reloaded > 1 ? ` (one reload for ${reloaded} sites of this host)` : "";
  const held = text === null ? [] : heldIn(text);
  const holds = held.length > 0 ? `; held out until healthy: port ${held.join(", ")}` : "";
  const verb = c.holds ? "holds changed" : c.config === undefined ? "removed" : "installed";
  return { log: [`${file}: ${verb}${holds}, nginx reloaded${others}`] };
}

/**
 * `nginx -s reload` only signals the master: workers of the old configuration
 * keep serving the requests they accepted, with the old upstreams, until those
 * finish. Stopping old containers before they are gone drops requests
 * (measured: 1 in 5 swaps), so wait for them.
 */
async function reloadAndDrain(log: Log, fx: NginxEffects, drainMs: number): Promise<void> {
  const before = new Set(fx.nginxWorkers().running);
  await execOk(fx, "nginx", ["-s", "reload"], NGINX_TIMEOUT);
  const deadline = fx.clock.now() + drainMs;
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
      `nginx did not start workers of the new configuration within ${drainMs / 1000} s; see nginx's error log`,
    );
  }
  log(`nginx: old workers still draining after ${drainMs / 1000}s, going on`);
}

/** Like exec, but a non-zero exit is an error carrying the program's stderr. */
async function execOk(
  fx: Pick<HostEffects, "exec">,
  file: string,
  args: string[],
  options?: ExecOptions,
) {
  const result = await fx.exec(file, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim();
    throw new Error(`${file} ${args[0] ?? ""} failed (exit ${result.code}): ${detail}`);
  }
  return result.stdout;
}
