// Log events from several hosts merged in the order of their times (Docker's
// timestamps for lines, the host's clock for joins and leaves). Following,
// each event waits `holdMs` after it arrived, so that an earlier line from a
// slower host can still go before it; later arrivals that are older still are
// printed as they come, never dropped.
import { type LogEvent, timeKey } from "../protocol/logs";

export interface HostEvent {
  host: string;
  event: LogEvent;
}

interface Held extends HostEvent {
  key: bigint;
  seq: number;
  arrived: number;
}

export class LogMerger {
  private held: Held[] = [];
  private seq = 0;

  constructor(
    private readonly emit: (e: HostEvent) => void,
    private readonly holdMs: number,
  ) {}

  push(host: string, event: LogEvent, now: number): void {
    this.held.push({ host, event, key: timeKey(event.time), seq: this.seq++, arrived: now });
  }

  /**
   * Emits, in time order, every event held `holdMs` by `now` and every held
   * event no later than the latest of those; all of them with `all`.
   */
  flush(now: number, all = false): void {
    const due = all ? this.held : this.held.filter((h) => h.arrived <= now - this.holdMs);
    if (due.length === 0) return;
    const cutoff = due.reduce((max, h) => (h.key > max ? h.key : max), due[0].key);
    const out = this.held.filter((h) => all || h.key <= cutoff || h.arrived <= now - this.holdMs);
    this.held = this.held.filter((h) => !out.includes(h));
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.seq - b.seq));
    for (const { host, event } of out) this.emit({ host, event });
  }
}

/** Docker's time to the millisecond, always as wide: `2025-06-01T10:00:00.120Z`. */
function millis(time: string): string {
  const key = timeKey(time);
  return key === 0n ? time : new Date(Number(key / 1_000_000n)).toISOString();
}

/** One line of `npx conductor logs`: host/slot, time, text; joins and leaves said as such. */
export function formatHostEvent({ host, event: e }: HostEvent): string {
  switch (e.kind) {
    case "line":
      return `${host}/${e.slot} ${millis(e.time)} ${e.text}`;
    case "join":
      return `${host}/${e.slot} ${millis(e.time)} -- joined: ${e.container} (revision ${e.revision})`;
    case "leave":
      return `${host}/${e.slot} ${millis(e.time)} -- left: ${e.container} (${e.state})`;
    case "error":
      return `${host} ${millis(e.time)} -- error${e.container ? ` reading ${e.container}` : ""}: ${e.message}`;
  }
}
