// `conductor logs --json` on a host prints one event per line, read by
// `npx conductor logs` on the operator's machine: a container's log line
// (Docker's own timestamp), a container joining or leaving while following,
// or an error about one container. Both sides build and parse the command line
// and the events from here.
import { z } from "zod";
import { CONDUCTOR_BIN } from "./rules";

const slot = z.number().int().min(0);
const container = z.string().min(1);
/** RFC 3339, as Docker writes it (nanoseconds, trailing zeros cut) or as Date.toISOString. */
const time = z.string().min(1);

export const logEvent = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("line"),
    time,
    slot,
    container,
    stream: z.enum(["stdout", "stderr"]),
    text: z.string(),
  }),
  z.strictObject({ kind: z.literal("join"), time, slot, container, revision: z.string() }),
  z.strictObject({ kind: z.literal("leave"), time, slot, container, state: z.string() }),
  z.strictObject({
    kind: z.literal("error"),
    time,
    container: container.optional(),
    message: z.string(),
  }),
]);
export type LogEvent = z.infer<typeof logEvent>;

export interface LogQuery {
  follow: boolean;
  /** A duration back from now: `30s`, `10m`, `2h`, `1d`. */
  since?: string;
  /** Lines of each container, from its end. */
  tail?: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a `--since` duration, or undefined when it is not one. */
export function parseSince(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  return match ? Number(match[1]) * UNITS[match[2]] : undefined;
}

export const SINCE_RULE = 'a duration such as "30s", "10m", "2h" or "1d"';

/** The host command line `npx conductor logs` runs on each host. */
export function logsArgv(serviceId: string, query: LogQuery): string[] {
  return [
    CONDUCTOR_BIN,
    "logs",
    "--id",
    serviceId,
    "--json",
    ...(query.follow ? ["--follow"] : []),
    ...(query.since === undefined ? [] : ["--since", query.since]),
    ...(query.tail === undefined ? [] : ["--tail", String(query.tail)]),
  ];
}

/**
 * Nanoseconds since the epoch of an RFC 3339 time in UTC: Docker cuts trailing
 * zeros of the fraction (`.5Z`, `.123456789Z`), so the texts do not sort as strings.
 */
export function timeKey(text: string): bigint {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n;
  }
  const seconds = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(seconds)) return 0n;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}
