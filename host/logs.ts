// `conductor logs --id <id> [--follow] [--since D] [--tail N] [--json]`: the
// Docker logs of a service's deployed containers on this host, each line with
// its replica slot and Docker's timestamp. With --follow it keeps going across
// a deploy: every second it looks for containers of the service that started
// (they join, from their first line) and streams that ended (the container
// left). `npx conductor logs` runs it with --json on every host and merges.
import * as http from "node:http";
import { LABELS } from "./store";
import { type LogEvent, type LogQuery, parseSince, timeKey } from "../protocol/logs";

export interface LogContainer {
  name: string;
  slot: number;
  /** Docker's words: created, running, exited, ... */
  state: string;
  revision: string;
}

export interface ReadQuery {
  follow: boolean;
  /** Nanoseconds since the epoch; lines from then on. */
  sinceNs?: bigint;
  tail?: number;
}

/** Where logs come from: the Engine API on the host, a fake in tests. */
export interface LogSource {
  /** The service's deployed containers, any state (one-offs carry no service label). */
  list(serviceId: string): Promise<LogContainer[]>;
  /** Calls `onLine` for each line; resolves when the stream ends (at once without follow). */
  read(
    name: string,
    query: ReadQuery,
    onLine: (stream: "stdout" | "stderr", line: string) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** When the container started and finished (Docker's times), for joins and leaves. */
  times?(name: string): Promise<{ startedAt?: string; finishedAt?: string } | undefined>;
}

export interface LogsOptions extends LogQuery {
  id: string;
  json: boolean;
}

/** `--since 10m` as nanoseconds since the epoch, `now` in ms. */
function sinceNs(query: LogQuery, now: number): bigint | undefined {
  const ms = query.since === undefined ? undefined : parseSince(query.since);
  return ms === undefined ? undefined : BigInt(now - ms) * 1_000_000n;
}

/** Docker's "<RFC 3339 time> <text>" (timestamps=1) as one event. */
function lineEvent(c: LogContainer, stream: "stdout" | "stderr", raw: string): LogEvent {
  const space = raw.indexOf(" ");
  const [time, text] = space < 0 ? [raw, ""] : [raw.slice(0, space), raw.slice(space + 1)];
  return { kind: "line", time, slot: c.slot, container: c.name, stream, text };
}

const nowIso = () => new Date().toISOString();

/** Every container's lines at once, in time order. */
export async function readLogs(
  options: LogsOptions,
  emit: (e: LogEvent) => void,
  source: LogSource,
  now: number = Date.now(),
): Promise<void> {
  const events: LogEvent[] = [];
  const containers = (await source.list(options.id)).sort((a, b) => a.slot - b.slot);
  const query = { follow: false, sinceNs: sinceNs(options, now), tail: options.tail };
  const signal = new AbortController().signal;
  await Promise.all(
    containers.map((c) =>
      source
        .read(c.name, query, (stream, raw) => events.push(lineEvent(c, stream, raw)), signal)
        .catch((err: Error) =>
          events.push({ kind: "error", time: nowIso(), container: c.name, message: err.message }),
        ),
    ),
  );
  const keyed = events.map((e, i) => ({ e, i, key: timeKey(e.time) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
  for (const { e } of keyed) emit(e);
}

interface Followed {
  slot: number;
  active: boolean;
  /** When its stream ended: Docker may list it as running for a moment after. */
  endedAt?: number;
  /** Its leave was said; running again later, it joins again. */
  left: boolean;
  /** The time of its last line: a stream started again begins after it. */
  lastNs?: bigint;
}

/** How long after its stream ended a container listed as running is taken as still stopping. */
const STOPPING_MS = 3000;

/**
 * Follows the service's containers until `stop` resolves: those running now
 * from --since/--tail, containers that start later from their first line.
 * Each poll says which ended streams left (the container stopped or is gone)
 * and which running containers joined (new, or started again).
 */
export async function followLogs(
  options: LogsOptions,
  emit: (e: LogEvent) => void,
  source: LogSource,
  stop: Promise<void>,
  pollMs = 1000,
): Promise<void> {
  const aborter = new AbortController();
  let stopped = false;
  void stop.then(() => {
    stopped = true;
    aborter.abort();
  });
  const followed = new Map<string, Followed>();
  const streams = new Set<Promise<void>>();
  const timeOf = async (name: string, which: "startedAt" | "finishedAt") =>
    (await source.times?.(name).catch(() => undefined))?.[which] ?? nowIso();

  const start = (c: LogContainer, query: ReadQuery) => {
    const f: Followed = followed.get(c.name) ?? { slot: c.slot, active: false, left: false };
    Object.assign(f, { active: true, endedAt: undefined, left: false });
    followed.set(c.name, f);
    const onLine = (stream: "stdout" | "stderr", raw: string) => {
      const event = lineEvent(c, stream, raw);
      f.lastNs = timeKey(event.time);
      emit(event);
    };
    const done = source
      .read(c.name, { ...query, follow: true }, onLine, aborter.signal)
      .catch((err: Error) => {
        if (!stopped)
          emit({ kind: "error", time: nowIso(), container: c.name, message: err.message });
      })
      .then(() => {
        f.active = false;
        f.endedAt = Date.now();
      })
      .finally(() => streams.delete(done));
    streams.add(done);
  };

  const poll = async (listed: LogContainer[]) => {
    for (const [name, f] of followed) {
      if (f.active || f.left || stopped) continue;
      const c = listed.find((x) => x.name === name);
      if (c?.state === "running") continue;
      f.left = true;
      const time = c ? await timeOf(name, "finishedAt") : nowIso();
      emit({ kind: "leave", time, slot: f.slot, container: name, state: c?.state ?? "removed" });
    }
    for (const c of listed) {
      const f = followed.get(c.name);
      if (c.state !== "running" || f?.active || stopped) continue;
      if (f && !f.left && Date.now() - (f.endedAt ?? 0) < STOPPING_MS) continue;
      const time = await timeOf(c.name, "startedAt");
      emit({ kind: "join", time, slot: c.slot, container: c.name, revision: c.revision });
      // A container seen before (restarted) goes on after its last line, a new one from its first.
      start(c, { follow: true, sinceNs: f?.lastNs === undefined ? undefined : f.lastNs + 1n });
    }
  };

  const first = await source.list(options.id);
  for (const c of first.sort((a, b) => a.slot - b.slot))
    if (c.state === "running")
      start(c, { follow: true, sinceNs: sinceNs(options, Date.now()), tail: options.tail });
  while (!stopped) {
    await Promise.race([stop, new Promise((r) => setTimeout(r, pollMs))]);
    if (stopped) break;
    try {
      await poll(await source.list(options.id));
    } catch (err) {
      emit({ kind: "error", time: nowIso(), message: (err as Error).message });
    }
  }
  await Promise.all(streams);
}

/** How the host prints an event without --json: slot, time, text. */
export function formatEvent(e: LogEvent): string {
  switch (e.kind) {
    case "line":
      return `${e.slot} ${e.time} ${e.text}`;
    case "join":
      return `${e.slot} -- joined: ${e.container} (revision ${e.revision})`;
    case "leave":
      return `${e.slot} -- left: ${e.container} (${e.state})`;
    case "error":
      return `-- error${e.container ? ` (${e.container})` : ""}: ${e.message}`;
  }
}

// ---------------------------------------------------------------------------
// The Engine API: the follow stream needs a response read as it comes, which
// docker.ts (whole bodies) does not do.

const SOCKET = process.env.CONDUCTOR_DOCKER_SOCKET ?? "/var/run/docker.sock";

function get(path: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: SOCKET, method: "GET", path, signal }, resolve);
    req.on("error", (err) =>
      reject(
        err.name === "AbortError"
          ? err
          : new Error(`cannot reach the Docker daemon at ${SOCKET}: ${err.message}`),
      ),
    );
    req.end();
  });
}

async function body(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The tag of `registry:5000/app:5ca0a01`: the revision. */
export function revisionOf(image: string): string {
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/") ? image.slice(colon + 1) : "-";
}

/**
 * Splits Docker's multiplexed log stream ([stream, 0, 0, 0, size (4 bytes BE)]
 * then the payload) into lines per stream; a line may span frames.
 */
export class LogDemuxer {
  private pending = Buffer.alloc(0);
  private readonly partial = { stdout: "", stderr: "" };

  constructor(private readonly onLine: (stream: "stdout" | "stderr", line: string) => void) {}

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const stream = this.pending[0] === 2 ? "stderr" : "stdout";
      this.text(stream, this.pending.subarray(8, 8 + size).toString("utf8"));
      this.pending = this.pending.subarray(8 + size);
    }
  }

  /** What is left of an unfinished line, at the end of the stream. */
  end(): void {
    for (const stream of ["stdout", "stderr"] as const)
      if (this.partial[stream]) this.onLine(stream, this.partial[stream]);
    this.partial.stdout = this.partial.stderr = "";
  }

  private text(stream: "stdout" | "stderr", text: string): void {
    const lines = (this.partial[stream] + text).split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.onLine(stream, line.replace(/\r$/, ""));
  }
}

/** `since` as the Engine takes it: seconds.nanoseconds. */
export function engineSince(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  return `${s}.${String(ns % 1_000_000_000n).padStart(9, "0")}`;
}

export const engineLogs: LogSource = {
  async list(serviceId) {
    const filters = encodeURIComponent(
      JSON.stringify({ label: [`${LABELS.service}=${serviceId}`] }),
    );
    const res = await get(`/containers/json?all=true&filters=${filters}`);
    const text = await body(res);
    if (res.statusCode !== 200) throw new Error(`docker GET /containers/json: ${text.trim()}`);
    const rows = JSON.parse(text) as {
      Names: string[];
      State: string;
      Image: string;
      Labels: Record<string, string>;
    }[];
    return rows.map((r) => ({
      name: r.Names[0].replace(/^\//, ""),
      slot: Number(r.Labels[LABELS.slot] ?? 0),
      state: r.State,
      revision: revisionOf(r.Image),
    }));
  },

  async times(name) {
    const res = await get(`/containers/${encodeURIComponent(name)}/json`);
    const text = await body(res);
    if (res.statusCode !== 200) return undefined;
    const state = (JSON.parse(text) as { State?: { StartedAt?: string; FinishedAt?: string } })
      .State;
    // Docker's zero time for "never".
    const real = (t?: string) => (t && !t.startsWith("0001-") ? t : undefined);
    return { startedAt: real(state?.StartedAt), finishedAt: real(state?.FinishedAt) };
  },

  async read(name, query, onLine, signal) {
    const params = new URLSearchParams({ stdout: "1", stderr: "1", timestamps: "1" });
    if (query.follow) params.set("follow", "1");
    if (query.sinceNs !== undefined) params.set("since", engineSince(query.sinceNs));
    if (query.tail !== undefined) params.set("tail", String(query.tail));
    let res: http.IncomingMessage;
    try {
      res = await get(`/containers/${encodeURIComponent(name)}/logs?${params}`, signal);
    } catch (err) {
      if ((err as Error).name === "AbortError") return;
      throw err;
    }
    if (res.statusCode === 404) return; // removed meanwhile: nothing to read
    if (res.statusCode !== 200) {
      const text = (await body(res)).trim();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON
      }
      throw new Error(`docker logs ${name}: ${message}`);
    }
    const demux = new LogDemuxer(onLine);
    try {
      for await (const chunk of res) demux.push(chunk as Buffer);
    } catch (err) {
      if ((err as Error).name !== "AbortError" && !signal.aborted) throw err;
    }
    demux.end();
  },
};

/**
 * The command: prints events (JSON lines with --json) until done; following,
 * until its input ends (the operator's ssh going away closes it) or a signal.
 */
export async function logsCommand(
  options: LogsOptions,
  source: LogSource = engineLogs,
): Promise<number> {
  const print = (e: LogEvent) =>
    process.stdout.write(`${options.json ? JSON.stringify(e) : formatEvent(e)}\n`);
  if (!options.follow) {
    await readLogs(options, print, source);
    return 0;
  }
  const stop = new Promise<void>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE"] as const) process.on(s, resolve);
    process.stdout.on("error", () => resolve()); // EPIPE: nobody reads any more
    if (!process.stdin.isTTY) {
      process.stdin.on("end", resolve).on("close", resolve).on("error", resolve);
      process.stdin.resume();
    }
  });
  await followLogs(options, print, source, stop);
  return 0;
}
