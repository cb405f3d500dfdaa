// Group commit of nginx changes: every `nginx apply|remove` of a deploy joins
// one batch, so a host reloads nginx (and waits for its old workers) once for
// all the services whose upstreams changed, not once each in turn (issue 11:
// 10.4 s for 5 services against 4.6 s for 1). Each request is a process of
// its own (one ssh session each), so the batch lives in files under the
// store, and the host's `nginx` lock makes one requester the leader:
//
//   nginx-batch/pending/<id>.json  a change, written by its requester, which
//                                  holds the lock `nginx-waiter-<id>` until it
//                                  has its answer: a free one is a requester
//                                  that died, whose change is dropped.
//   nginx-batch/claimed/<id>.json  the leader's batch, renamed from pending/,
//                                  so a requester giving up and the leader
//                                  never both win.
//   nginx-batch/answers/<id>.json  the outcome for the requester.
//
// A leader killed mid-batch frees the lock (lock.ts); the next one undoes its
// half-done files (the committer's journal) and puts its claimed changes back
// in pending/, so no live requester's change is lost or left waiting.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type { HostEffects, Log } from "./effects";
import { readJson, removeFile, writeFileAtomic } from "./files";
import { ownProcesses } from "./proc";
import { lastStartedHere, runningHere } from "./serve";
import { type HostStore, LOCKS } from "./store";

/**
 * A service's nginx file to install (`config`) or remove (neither field), or
 * (`holds`) its file as it is to be written again with the supervisor's holds
 * as they are now (nginx-holds.ts). Holds changes go in batches of their
 * own, without gathering: the supervisor waits for one (a bounded time)
 * before it repairs a replica, holding that service's lock, which a deploy's
 * `container up` (which a leader gathers for) may be waiting for.
 */
const nginxChange = z.strictObject({
  serviceId: z.string(),
  config: z.string().optional(),
  holds: z.literal(true).optional(),
});
export type NginxChange = z.infer<typeof nginxChange>;

const outcome = z.strictObject({
  /** Why the change was not made; absent when it was. */
  error: z.string().optional(),
  /** What the leader did about it, for the requester's own log. */
  log: z.array(z.string()),
});
export type Outcome = z.infer<typeof outcome>;

/** Makes a batch of changes at once; how nginx does it is nginx.ts's. */
export interface Committer {
  /**
   * Undoes what a leader killed mid-batch left half done; true when nginx
   * must be reloaded even if no change is pending (it may run those files).
   */
  recover(log: Log): boolean;
  /** One outcome per change, in order; `mustReload` even when `changes` is empty. */
  commit(changes: NginxChange[], mustReload: boolean, log: Log): Promise<Outcome[]>;
}

/** What this host is doing that may bring more changes soon; see gather. */
export interface DeployActivity {
  /** `conductor container up` processes running on this host. */
  containerUps: number;
  /** `conductor nginx apply|remove` processes on this host, this one included. */
  nginxRequests: number;
  /** When each service's newest container record was written: its last `container up` ended. */
  recordsWritten: Map<string, number>;
  /**
   * When `conductor serve` in this process last started an nginx request: it
   * writes its change within ms, never looking "started, not written", and
   * the changes of one deploy come some ms apart as Pulumi sends them.
   */
  nginxRequestStartedHere?: number;
}

export type BatchEffects = Pick<
  HostEffects,
  "locks" | "clock" | "random" | "store" | "deployActivity"
>;

/** How often a requester looks for its answer (a file read). */
const POLL_MS = 25;
/** How often it checks that a leader holds the lock (a few socket calls), and a leader looks for more (a /proc scan: 14 ms here). */
const LEAD_POLL_MS = 100;
/** How long a change may wait in pending/ before its requester gives up (the lock's own wait). */
const WAIT_TIMEOUT_MS = 120_000;
/**
 * How long after the last sign of another service's deploy (a `container up`
 * ending, an nginx request starting) the leader still waits for its change:
 * Pulumi starts a service's NginxSite tens of ms after its last container is
 * healthy, plus an ssh login when the host is remote.
 */
export const SETTLE_MS = 200;
/** The longest a leader holds its batch back for more (a slow service then gets a reload of its own). */
export const GATHER_MAX_MS = 10_000;
/** How long after `conductor serve` started an nginx request the leader still waits for another (see DeployActivity). */
export const ARRIVAL_MS = 100;

/**
 * Makes `change` through the next batch, leading it if no one else does;
 * throws its error. With `waitMs` (holds changes only) it gives up waiting
 * after that long and answers "pending": the change stays queued and the next
 * leader makes it (a holds change is made even with its requester gone: it
 * only writes the file again from holds.json).
 */
export async function submitChange(
  change: NginxChange,
  committer: Committer,
  log: Log,
  fx: BatchEffects,
  waitMs?: number,
): Promise<"made" | "pending"> {
  const queue = new BatchQueue(fx.store);
  const id = `${String(fx.clock.now()).padStart(15, "0")}-${fx.random.hex(6)}`;
  const giveUpAt = change.holds && waitMs !== undefined ? fx.clock.now() + waitMs : Infinity;
  return fx.locks.hold(waiterLock(id), async () => {
    queue.put("pending", id, change);
    const answer = await awaitAnswer(queue, id, change, committer, log, fx, giveUpAt);
    if (!answer) return "pending";
    for (const line of answer.log) log(line);
    if (answer.error !== undefined) throw new Error(answer.error);
    return "made";
  });
}

const waiterLock = (id: string) => `nginx-waiter-${id}`;

async function awaitAnswer(
  queue: BatchQueue,
  id: string,
  mine: NginxChange,
  committer: Committer,
  log: Log,
  fx: BatchEffects,
  giveUpAt: number,
): Promise<Outcome | undefined> {
  const deadline = fx.clock.now() + WAIT_TIMEOUT_MS;
  let missing = 0;
  for (let poll = 0; ; poll++) {
    const answer = queue.takeAnswer(id);
    if (answer) return answer;
    if (poll % (LEAD_POLL_MS / POLL_MS) === 0) {
      await fx.locks.tryHold(LOCKS.nginx, () => lead(queue, mine, committer, log, fx));
    }
    const led = queue.takeAnswer(id);
    if (led) return led;
    // Missing twice in a row: once could be a look between the renames of a requeue.
    missing = queue.has(id) ? 0 : missing + 1;
    if (missing > 1) throw new Error(`nginx: the change was dropped without an answer (${id})`);
    // Only a change still in pending/ can be withdrawn; a claimed one is being made.
    if (fx.clock.now() >= deadline && queue.remove("pending", id)) {
      throw new Error(
        `nginx: no conductor process took this change within ${WAIT_TIMEOUT_MS / 1000} s; another one holds the nginx lock (${fx.store.locksDir})`,
      );
    }
    if (fx.clock.now() >= giveUpAt) return undefined;
    await fx.clock.sleep(POLL_MS);
  }
}

/**
 * The leader's turn, holding the nginx lock: recover, commit the holds
 * changes waiting (a batch of their own, with the short drain), and for a
 * deploy's leader gather (committing holds changes as they come), commit,
 * answer. A supervisor leading commits holds alone: it must never wait for a
 * deploy's gathering or its old workers' drain (up to 60 s).
 */
async function lead(
  queue: BatchQueue,
  mine: NginxChange,
  committer: Committer,
  log: Log,
  fx: BatchEffects,
) {
  let mustReload = committer.recover(log);
  for (const id of queue.ids("claimed")) queue.move(id, "claimed", "pending");
  const commitHolds = async () => {
    const ids = queue.ids("pending").filter((id) => queue.read("pending", id)?.holds);
    if (ids.length === 0) return;
    if (await commitBatch(queue, ids, mustReload, committer, log, fx)) mustReload = false;
  };
  await commitHolds();
  if (mine.holds) {
    if (mustReload) await commitBatch(queue, [], true, committer, log, fx);
    return;
  }
  await gather(queue, fx, commitHolds);
  // Listed again: a change that came while the last look was being made goes
  // too, holds included (a deploy's commit writes holds.json's holds anyway).
  await commitBatch(queue, queue.ids("pending"), mustReload, committer, log, fx);
}

/** Claims `ids`, commits them and answers; false when there was nothing to do. */
async function commitBatch(
  queue: BatchQueue,
  ids: string[],
  mustReload: boolean,
  committer: Committer,
  log: Log,
  fx: BatchEffects,
): Promise<boolean> {
  const batch = await claim(queue, ids, log, fx);
  if (batch.length === 0 && !mustReload) return false;
  let outcomes: Outcome[];
  try {
    outcomes = await committer.commit(
      batch.map((b) => b.change),
      mustReload,
      log,
    );
  } catch (err) {
    // The committer answers what it expects; this is what it did not.
    outcomes = batch.map(() => ({ error: (err as Error).message, log: [] }));
    await undo(committer, mustReload, log);
  }
  batch.forEach(({ id }, i) => queue.answer(id, outcomes[i]));
  return true;
}

/**
 * After a commit that threw: puts its files back, then reloads when nginx may
 * run files other than those, from this commit or from a dead leader's
 * (`mustReload`): the throw may have come before that reload.
 */
async function undo(committer: Committer, mustReload: boolean, log: Log): Promise<void> {
  if (!committer.recover(log) && !mustReload) return;
  try {
    await committer.commit([], true, log);
  } catch (err) {
    log(`nginx: could not reload nginx after a failed batch: ${(err as Error).message}`);
  }
}

/**
 * Waits while more changes look to be on their way: while a `container up` runs (its service's NginxSite follows it),
 * while an nginx request has started but not yet written its change, and
 * SETTLE_MS past either or past another service's last container record,
 * and ARRIVAL_MS past the last nginx request `conductor serve` started here;
 * at most GATHER_MAX_MS. A lone service's change goes at once (ARRIVAL_MS
 * later through serve). Holds changes are not gathered: `commitHolds` makes
 * those waiting at each look.
 */
async function gather(
  queue: BatchQueue,
  fx: BatchEffects,
  commitHolds: () => Promise<void>,
): Promise<void> {
  const started = fx.clock.now();
  let lastBusy = -Infinity;
  for (;;) {
    const all = queue.ids("pending");
    const pending = all.map((id) => queue.read("pending", id));
    if (pending.some((c) => c?.holds)) await commitHolds();
    const ids = all.filter((_, i) => !pending[i]?.holds);
    if (ids.length === 0) return;
    const now = fx.clock.now();
    const activity = fx.deployActivity();
    const waiting = ids.length + queue.ids("answers").length;
    if (activity.containerUps > 0 || activity.nginxRequests > waiting) lastBusy = now;
    const pendingServices = new Set(ids.map((id) => pending[all.indexOf(id)]?.serviceId));
    for (const [serviceId, at] of activity.recordsWritten) {
      if (!pendingServices.has(serviceId)) lastBusy = Math.max(lastBusy, Math.min(at, now));
    }
    const arriving = now - (activity.nginxRequestStartedHere ?? -Infinity) < ARRIVAL_MS;
    if (now - started >= GATHER_MAX_MS) return;
    if (!arriving && now - lastBusy >= SETTLE_MS) return;
    await fx.clock.sleep(LEAD_POLL_MS);
  }
}

interface Claimed {
  id: string;
  change: NginxChange;
}

/**
 * Moves the changes into the batch in the order they came, one per service
 * (a later one of the same service waits for the next batch), dropping those
 * whose requester is gone: a change left behind by a killed deploy must not
 * be made by a later, unrelated one, whose containers it may not point at.
 */
async function claim(queue: BatchQueue, ids: string[], log: Log, fx: BatchEffects) {
  const batch: Claimed[] = [];
  const services = new Set<string>();
  for (const id of ids) {
    const change = queue.read("pending", id);
    if (!change || services.has(change.serviceId)) continue;
    // A holds change is made whoever asked: its requester may have stopped waiting.
    if (!change.holds && (await gone(id, fx))) {
      queue.remove("pending", id);
      log(`nginx: dropped the change of ${change.serviceId}: the deploy that asked for it is gone`);
      continue;
    }
    if (!queue.move(id, "pending", "claimed")) continue; // withdrawn meanwhile
    batch.push({ id, change });
    services.add(change.serviceId);
  }
  // Answers nobody will read: their requesters died after asking.
  for (const id of queue.ids("answers")) if (await gone(id, fx)) queue.remove("answers", id);
  return batch;
}

/** Whether the requester of `id` has died: its waiter lock is free. */
async function gone(id: string, fx: BatchEffects): Promise<boolean> {
  return (await fx.locks.tryHold(waiterLock(id), async () => true)) === true;
}

type Stage = "pending" | "claimed" | "answers";

/** The batch's files in the store (root-only, as everything there). */
class BatchQueue {
  private readonly root: string;

  constructor(store: HostStore) {
    this.root = path.join(store.root, "nginx-batch");
  }

  private file(stage: Stage, id: string) {
    return path.join(this.root, stage, `${id}.json`);
  }

  ids(stage: Stage): string[] {
    try {
      return fs
        .readdirSync(path.join(this.root, stage))
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -".json".length))
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  put(stage: "pending", id: string, change: NginxChange): void {
    fs.mkdirSync(path.join(this.root, stage), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file(stage, id), JSON.stringify(change), 0o600);
  }

  read(stage: "pending" | "claimed", id: string): NginxChange | undefined {
    const read = readJson(this.file(stage, id), nginxChange, "an nginx change");
    return read.status === "ok" ? read.value : undefined;
  }

  /** False when it was not there (withdrawn, or claimed by another). */
  move(id: string, from: Stage, to: Stage): boolean {
    fs.mkdirSync(path.join(this.root, to), { recursive: true, mode: 0o700 });
    try {
      fs.renameSync(this.file(from, id), this.file(to, id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  /** Whether the change is still waiting or being made (else answered, or dropped). */
  has(id: string): boolean {
    return (["pending", "claimed", "answers"] as const).some((stage) =>
      fs.existsSync(this.file(stage, id)),
    );
  }

  remove(stage: Stage, id: string): boolean {
    return removeFile(this.file(stage, id));
  }

  /** The answer first, then the claim: a leader dying between them makes the change again, harmlessly. */
  answer(id: string, result: Outcome): void {
    fs.mkdirSync(path.join(this.root, "answers"), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file("answers", id), JSON.stringify(result), 0o600);
    this.remove("claimed", id);
  }

  takeAnswer(id: string): Outcome | undefined {
    const read = readJson(this.file("answers", id), outcome, "an nginx answer");
    if (read.status === "missing") return undefined;
    this.remove("answers", id);
    if (read.status === "ok") return read.value;
    return { error: `nginx: ${read.message}`, log: [] };
  }
}

/**
 * The real DeployActivity: conductor processes from /proc (those running this
 * same script, in this pid namespace: a test fleet's hosts are containers on
 * one kernel), the requests `conductor serve` runs in this process (serve.ts),
 * and the times of the store's container records.
 */
export function deployActivity(store: HostStore, script = process.argv[1]): DeployActivity {
  const activity: DeployActivity = { containerUps: 0, nginxRequests: 0, recordsWritten: new Map() };
  for (const { argv } of ownProcesses((argv) => argv.includes(script))) {
    const at = argv.indexOf(script);
    const subcommand = argv.slice(at + 1, at + 3).join(" ");
    if (subcommand === "container up") activity.containerUps++;
    if (subcommand === "nginx apply" || subcommand === "nginx remove") activity.nginxRequests++;
  }
  activity.containerUps += runningHere("container up");
  activity.nginxRequests += runningHere("nginx apply") + runningHere("nginx remove");
  activity.nginxRequestStartedHere = Math.max(
    lastStartedHere("nginx apply"),
    lastStartedHere("nginx remove"),
  );
  for (const [serviceId, at] of recordTimes(store)) activity.recordsWritten.set(serviceId, at);
  return activity;
}

/** Container names are `<service id>-<slot>-<fingerprint>` (naming.ts). */
const RECORD_NAME = /^(.+)-\d+-[0-9a-f]{10}\.json$/;

function recordTimes(store: HostStore): Map<string, number> {
  const times = new Map<string, number>();
  let names: string[];
  try {
    names = fs.readdirSync(store.containersDir);
  } catch {
    return times;
  }
  for (const name of names) {
    const serviceId = RECORD_NAME.exec(name)?.[1];
    const stat =
      serviceId && fs.statSync(path.join(store.containersDir, name), { throwIfNoEntry: false });
    if (stat) times.set(serviceId, Math.max(times.get(serviceId) ?? 0, stat.mtimeMs));
  }
  return times;
}
