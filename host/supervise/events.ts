// Docker's events, so the supervisor checks a container the moment it dies
// instead of at the next 5 s pass. The stream ends whenever dockerd stops or
// restarts: it is opened again, after a delay that doubles up to
// RECONNECT_MAX_MS, and the daemon answering again is reported (a restarted
// daemon has stopped every container, and its events of that are lost).
import type { DockerEvent, EventFilters } from "../docker";
import type { HostEffects, Log } from "../effects";
import { LABELS } from "../store";

export const EVENT_FILTERS: EventFilters = {
  label: [LABELS.service],
  event: ["kill", "die", "oom", "destroy", "health_status", "start"],
};
/**
 * The events after which a replica is held out of nginx until healthy
 * (holds.ts): it is stopping (kill: the first sign, before the app even has
 * the signal) or has just started and may still be booting (`docker restart`,
 * an operator's `docker start`).
 */
export const HOLDING_EVENTS = ["kill", "die", "oom", "start"];
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 5_000;

export interface EventWatch {
  /** A supervised container's event. */
  onEvent(event: DockerEvent): void;
  /** The daemon answers again after the stream was lost. */
  onReconnect(): void;
}

/** Follows the events until the returned function is called (which resolves once it has stopped). */
export function watchEvents(
  watch: EventWatch,
  log: Log,
  fx: Pick<HostEffects, "docker" | "clock">,
): () => Promise<void> {
  const abort = new AbortController();
  const aborted = new Promise<void>((r) => abort.signal.addEventListener("abort", () => r()));
  const done = follow(watch, log, fx, abort.signal, aborted);
  return () => {
    abort.abort();
    return done;
  };
}

async function follow(
  watch: EventWatch,
  log: Log,
  fx: Pick<HostEffects, "docker" | "clock">,
  signal: AbortSignal,
  aborted: Promise<void>,
): Promise<void> {
  let delay = RECONNECT_MIN_MS;
  let lostAt: number | undefined;
  while (!signal.aborted) {
    let openedAt: number | undefined;
    const onOpen = () => {
      openedAt = fx.clock.now();
      if (lostAt === undefined) return;
      const away = ((openedAt - lostAt) / 1000).toFixed(1);
      log(
        `docker events: the daemon answers again (${away}s after it went away); checking every container now`,
      );
      lostAt = undefined;
      watch.onReconnect();
    };
    let reason = "the daemon closed the events stream";
    try {
      await fx.docker.streamEvents(EVENT_FILTERS, { onOpen, onEvent: watch.onEvent }, signal);
    } catch (err) {
      reason = (err as Error).message;
    }
    if (signal.aborted) return;
    // A stream that stayed open a while was a working one: reconnect quickly.
    if (openedAt !== undefined && fx.clock.now() - openedAt >= RECONNECT_MAX_MS)
      delay = RECONNECT_MIN_MS;
    if (lostAt === undefined) {
      lostAt = fx.clock.now();
      log(
        `docker events: ${reason}; reconnecting (every ${RECONNECT_MAX_MS / 1000}s at most), passes go on meanwhile`,
      );
    }
    await Promise.race([fx.clock.sleep(delay), aborted]);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  }
}
