// Only healthy replicas take traffic: the supervisor keeps a replica out of
// its service's nginx rotation from before it repairs it (start, recreate,
// restart) or sees Docker kill, stop or start it, until it answers its health
// check again; the same rule a deploy follows (new containers join nginx only
// once healthy).
//
// Why: nginx reaches a replica through docker-proxy on 127.0.0.1. While the
// app in a just-started container boots, docker-proxy accepts the connection,
// nginx sends the request, and the connection drops. nginx passes a GET on to
// the next replica, but never a request it has sent that is not idempotent
// (POST, PATCH, LOCK; proxy_next_upstream): that fails with 502 (measured: 385
// of 15,606 POSTs over one `docker kill` of a replica booting in 1.5 s).
// `proxy_next_upstream non_idempotent` would run a request twice when the app
// got it and died. A held replica is a `backup` server (nginx-holds.ts): it
// gets nothing while the other replicas take connections, and is still tried
// if they all fail.
//
// The hold is made through the nginx batch (nginx-batch.ts) in a batch of
// holds alone, without gathering, and waited for, reload and old workers'
// drain included (HOLD_DRAIN_MS), before the repair: no request is then on
// its way to the replica when it stops or boots, and a restart for a failing
// health check lets its requests in flight finish first. The supervisor waits
// holding the service's lock, which a deploy's `container up` may wait for, so
// at most HOLD_WAIT_MS: past that a deploy's batch holds nginx (its drain may
// last 60 s), the repair goes on and the hold lands after. Lifting a hold is
// never waited for.
// When the hold cannot be made (nginx -t fails, no nginx file) the repair goes
// on anyway and the log says why: repairing matters more than the hold.
//
// Holds live in the store (holds.json), not in the supervisor's memory, so a
// restarted supervisor releases them, and the committer marks them in every
// file it writes: a deploy applying the same service's file keeps them.
import * as os from "node:os";
import { DEPLOY_HTTP_POLL_MS, healthCheckOf } from "../container";
import type { HostEffects, Log } from "../effects";
import { confName, HOLD_DRAIN_MS, type NginxEffects, nginxHolds } from "../nginx";
import { heldIn, withHolds } from "../nginx-holds";
import type { ContainerRecord, HoldsRecord, ReleaseRecord } from "../store";

export type HoldEffects = NginxEffects & Pick<HostEffects, "docker" | "probe">;

/** A replica without a health check is healthy once it has run this long (the deploy's rule). */
export const NO_CHECK_GRACE_MS = 2_000;
/**
 * How long past its stop timeout a replica signalled to stop (a `kill`
 * event) that neither stopped nor restarted stays held: the signal did not
 * stop it (SIGHUP, or an app that ignores SIGTERM).
 */
export const STOPPING_GRACE_MS = 2_000;

/**
 * How long a hold's repair waits for nginx's answer: the hold's own drain
 * plus its check and reload. Longer means a deploy's batch holds the nginx
 * lock (its drain may last 60 s): the repair goes on, the hold lands after.
 */
export const HOLD_WAIT_MS = HOLD_DRAIN_MS + 1_000;

/** How often a held replica without a health check is looked at (is it running?). */
const HOLD_PROBE_MS = 100;

interface Probing {
  running: boolean;
  /** When the next probe may start. */
  nextAt: number;
  /** The last finished probe's answer. */
  healthy?: boolean;
}

export class Holds {
  private holds: HoldsRecord;
  /** Held replica -> its probe. */
  private readonly probes = new Map<string, Probing>();

  constructor(
    private readonly fx: HoldEffects,
    log: Log,
  ) {
    const read = fx.store.readHolds();
    if (read.status === "corrupt") log(`${read.message}; starting with no replica held out`);
    this.holds = read.status === "ok" ? read.value : {};
  }

  get count(): number {
    return Object.values(this.holds).reduce((n, s) => n + Object.keys(s).length, 0);
  }

  sinceOf(serviceId: string, name: string): number | undefined {
    return this.holds[serviceId]?.[name]?.since;
  }

  /**
   * Takes the replica out of nginx's rotation and returns once nginx runs
   * without it; a replica with no host port is not behind nginx.
   */
  async hold(serviceId: string, record: ContainerRecord, why: string, log: Log): Promise<void> {
    const port = record.hostPort;
    if (port === undefined || this.sinceOf(serviceId, record.name) !== undefined) return;
    const what = `${serviceId} ${record.name}`;
    this.probes.delete(record.name); // a probe of before the hold says nothing of now
    this.holds[serviceId] = {
      ...this.holds[serviceId],
      [record.name]: { port, since: this.fx.clock.now() },
    };
    this.save();
    log(`${what}: held out of nginx until it answers its health check (${why})`);
    try {
      const answer = await nginxHolds(serviceId, log, this.fx, HOLD_WAIT_MS);
      if (answer === "pending") {
        return log(
          `${what}: nginx did not answer within ${HOLD_WAIT_MS / 1000} s (a deploy's nginx batch runs); repairing anyway, the hold lands once that batch ends`,
        );
      }
    } catch (err) {
      return log(`${what}: could not hold it out of nginx: ${(err as Error).message}; going on`);
    }
    this.sayKeptIn(serviceId, log);
  }

  /** With every replica of the service held, nginx-holds.ts keeps the one held longest in rotation. */
  private sayKeptIn(serviceId: string, log: Log) {
    const marked = heldIn(this.fx.nginxConfDir.read(confName(serviceId)) ?? "");
    const kept = Object.entries(this.holds[serviceId] ?? {})
      .filter(([, h]) => !marked.includes(h.port))
      .map(([name]) => name);
    if (kept.length === 0) return;
    log(
      `${serviceId}: every replica is held out; ${kept.join(", ")} (held longest) kept in nginx's rotation`,
    );
  }

  /**
   * Docker signalled it to stop (`stopping`), or it stopped or started since.
   * A replica that drains on SIGTERM still answers its health check while it
   * stops, then drops connections as it exits: it stays held until it has
   * stopped or started again. `signal` is the kill event's (a number, as
   * Docker gives it, or a name): only a signal that stops the app counts,
   * never SIGHUP or SIGUSR1 (a log reopen would hold it out for its stop
   * timeout).
   */
  stopping(serviceId: string, name: string, stopping: boolean, signal?: string): void {
    const held = this.holds[serviceId]?.[name];
    if (!held) return;
    const stops = stopping && (signal === undefined || stopsApp(signal, this.stopSignalOf(name)));
    if ((held.stopping ?? false) === stops) return;
    if (stops) held.stopping = true;
    else delete held.stopping;
    this.save();
  }

  private stopSignalOf(name: string): string | undefined {
    const read = this.fx.store.readContainer(name);
    return read.status === "ok" ? read.value.spec.stopSignal : undefined;
  }

  /**
   * Between passes: puts back every held replica whose health check has
   * answered. Probes run concurrently and are never waited for: each starts
   * when its replica's next probe is due (as the deploy paces its checks: an
   * HTTP check every 100 ms at most, a command check at its interval), and a
   * probe still running (an app that accepts and never answers, up to the
   * check's timeout) is looked at again on the next call.
   */
  async releaseHealthy(log: Log): Promise<void> {
    for (const held of Object.values(this.holds)) {
      for (const [name, hold] of Object.entries(held)) this.probeIfDue(name, hold);
    }
    // Lets probes that answer at once (a refused port, a fake) settle now.
    await new Promise<void>((r) => setImmediate(r));
    for (const [serviceId, held] of Object.entries(this.holds)) {
      const back: string[] = [];
      for (const name of Object.keys(held)) {
        const read = this.fx.store.readContainer(name);
        if (read.status === "ok" && this.probes.get(name)?.healthy !== true) continue;
        this.probes.delete(name);
        const after = ((this.fx.clock.now() - held[name].since) / 1000).toFixed(1);
        back.push(
          read.status === "ok"
            ? `${serviceId} ${name}: answers its health check ${after}s after it was held out: back in nginx`
            : `${serviceId} ${name}: no longer deployed: hold dropped`,
        );
        delete held[name];
      }
      if (back.length === 0) continue;
      if (Object.keys(held).length === 0) delete this.holds[serviceId];
      this.save();
      for (const line of back) log(line);
      // Not awaited: the loop must not wait for nginx (a deploy's batch may hold it 60 s).
      void this.commit(serviceId, log);
    }
  }

  /** Starts the replica's probe when it is due and none runs; its answer waits in `probes`. */
  private probeIfDue(name: string, hold: { since: number; stopping?: boolean }): void {
    const now = this.fx.clock.now();
    const last = this.probes.get(name);
    // A healthy answer waits for releaseHealthy to take it: replaced by the
    // next probe due, it was lost whenever a probe took longer than the
    // one setImmediate releaseHealthy waits (seen: repaired replicas back in
    // nginx 15 s after they answered, not 0.1 s).
    if (last && (last.running || last.healthy === true || now < last.nextAt)) return;
    const read = this.fx.store.readContainer(name);
    if (read.status !== "ok") return;
    const record = read.value;
    const check = healthCheckOf(record.spec, record.name, record.hostPort, this.fx);
    const everyMs = !check
      ? HOLD_PROBE_MS
      : check.kind === "http"
        ? Math.min(check.intervalMs, DEPLOY_HTTP_POLL_MS)
        : check.intervalMs;
    const probe: Probing = { running: true, nextAt: now + everyMs };
    this.probes.set(name, probe);
    this.healthy(record, hold)
      .then((healthy) => (probe.healthy = healthy))
      .catch(() => (probe.healthy = false))
      .finally(() => (probe.running = false));
  }

  /** On a pass: drops the holds of replicas no longer in their service's release (a deploy replaced them). */
  dropReplaced(releases: ReleaseRecord[], log: Log): void {
    const released = new Map(releases.map((r) => [r.serviceId, new Set(r.containers)]));
    let dropped = false;
    for (const [serviceId, held] of Object.entries(this.holds)) {
      for (const name of Object.keys(held)) {
        if (released.get(serviceId)?.has(name)) continue;
        delete held[name];
        dropped = true;
        log(`${serviceId} ${name}: no longer in its release: hold dropped`);
      }
      if (Object.keys(held).length === 0) delete this.holds[serviceId];
    }
    if (dropped) this.save();
    this.resubmitStale(releases, log);
  }

  /**
   * On a pass (the first at start included): a service's nginx file whose
   * marks are not those of holds.json (a hold lifted whose commit failed, a
   * holds.json lost, a reload that timed out and put older files back) is
   * written again; `nginx read` strips marks, so nothing else would see it.
   */
  private resubmitStale(releases: ReleaseRecord[], log: Log): void {
    for (const { serviceId } of releases) {
      const conf = this.fx.nginxConfDir.read(confName(serviceId));
      if (conf === null || conf === undefined) continue;
      const ports = new Map(
        Object.values(this.holds[serviceId] ?? {}).map((h) => [h.port, h.since]),
      );
      const want = heldIn(withHolds(conf, ports)).join(",");
      if (heldIn(conf).join(",") === want) continue;
      log(`${serviceId}: its nginx file's holds differ from holds.json; writing it again`);
      void this.commit(serviceId, log);
    }
  }

  private async commit(serviceId: string, log: Log) {
    try {
      await nginxHolds(serviceId, log, this.fx, HOLD_WAIT_MS);
    } catch (err) {
      // The file keeps it as a backup until its service's next nginx change.
      log(`${serviceId}: could not put replicas back in nginx: ${(err as Error).message}`);
    }
  }

  /** As the deploy decides it: the health check answers, or without one, running since the grace period. */
  private async healthy(
    record: ContainerRecord,
    { since, stopping }: { since: number; stopping?: boolean },
  ): Promise<boolean> {
    const stopEnds = since + record.spec.stopTimeoutMs + STOPPING_GRACE_MS;
    if (stopping && this.fx.clock.now() < stopEnds) return false;
    const check = healthCheckOf(record.spec, record.name, record.hostPort, this.fx);
    if (check) return (await check.probe()).healthy;
    if (this.fx.clock.now() - since < NO_CHECK_GRACE_MS) return false;
    return (await this.fx.docker.inspectContainer(record.name))?.status === "running";
  }

  private save(): void {
    this.fx.store.writeHolds(this.holds);
  }
}

const STOP_SIGNALS = ["SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT"];

/** A signal by number or name ("15", "SIGTERM", "TERM") as its number; undefined if unknown. */
function signalNumber(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal);
  const upper = signal.toUpperCase();
  const key = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as NodeJS.Signals;
  return os.constants.signals[key];
}

/** Whether a kill event's signal stops the app: the usual stop signals, or its spec's own. */
export function stopsApp(signal: string, stopSignal?: string): boolean {
  const n = signalNumber(signal);
  if (n === undefined) return true; // unknown: the safe side is to keep it held
  return [...STOP_SIGNALS, ...(stopSignal ? [stopSignal] : [])].some((s) => signalNumber(s) === n);
}
