// `conductor logs`: Docker's stream split into lines, all containers at once
// in time order, and following across a deploy with a fake log source. Not
// proven here: the Engine API itself (test/fleet/operating.test.ts).
import {
  engineSince,
  followLogs,
  formatEvent,
  LogDemuxer,
  type LogContainer,
  type LogSource,
  type ReadQuery,
  readLogs,
  revisionOf,
} from "./logs";
import type { LogEvent } from "../protocol/logs";

const ID = "shop_web_production";

function frame(stream: 1 | 2, text: string): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([head, Buffer.from(text)]);
}

describe("LogDemuxer", () => {
  it("gives whole lines per stream, across frames and chunks", () => {
    const lines: string[] = [];
    const demux = new LogDemuxer((stream, line) => lines.push(`${stream}: ${line}`));
    const bytes = Buffer.concat([
      frame(1, "T1 one\nT2 tw"),
      frame(2, "T3 err\r\n"),
      frame(1, "o\nT4 three"),
    ]);
    // Chunks that cut frame headers and payloads anywhere.
    for (let i = 0; i < bytes.length; i += 5) demux.push(bytes.subarray(i, i + 5));
    demux.end();
    expect(lines).toStrictEqual([
      "stdout: T1 one",
      "stderr: T3 err",
      "stdout: T2 two",
      "stdout: T4 three",
    ]);
  });
});

describe("small parts", () => {
  it.each([
    ["registry:5000/conductor/hello:5ca0a01", "5ca0a01"],
    ["conductor-hello:abc1234", "abc1234"],
    ["registry:5000/conductor/hello", "-"],
  ])("revisionOf(%s) is %s", (image, revision) => {
    expect(revisionOf(image)).toBe(revision);
  });

  it("gives the Engine seconds.nanoseconds", () => {
    expect(engineSince(1_700_000_000_000_000_005n)).toBe("1700000000.000000005");
  });

  it("prints an event for a person", () => {
    const line: LogEvent = {
      kind: "line",
      time: "2025-06-01T10:00:00.5Z",
      slot: 1,
      container: "c",
      stream: "stdout",
      text: "hello",
    };
    expect(formatEvent(line)).toBe("1 2025-06-01T10:00:00.5Z hello");
    expect(
      formatEvent({ kind: "leave", time: "t", slot: 0, container: "c0", state: "exited" }),
    ).toBe("0 -- left: c0 (exited)");
  });
});

/** Containers and their lines ("<time> <text>"), following until `end(name)`. */
class FakeSource implements LogSource {
  containers: LogContainer[] = [];
  lines = new Map<string, string[]>();
  reads: { name: string; query: ReadQuery }[] = [];
  times?: LogSource["times"];
  private readonly ends = new Map<string, () => void>();
  private readonly listeners = new Map<string, (line: string) => void>();

  add(name: string, slot: number, state = "running", lines: string[] = []) {
    this.containers.push({ name, slot, state, revision: "5ca0a01" });
    this.lines.set(name, lines);
  }

  write(name: string, line: string) {
    this.listeners.get(name)?.(line);
  }

  /** The container stops: its follow stream ends. */
  stopContainer(name: string, state = "exited") {
    this.containers.find((c) => c.name === name)!.state = state;
    this.ends.get(name)?.();
  }

  async list() {
    return this.containers.map((c) => ({ ...c }));
  }

  read(
    name: string,
    query: ReadQuery,
    onLine: (s: "stdout", l: string) => void,
    signal: AbortSignal,
  ) {
    this.reads.push({ name, query });
    for (const line of this.lines.get(name) ?? []) onLine("stdout", line);
    if (!query.follow) return Promise.resolve();
    this.listeners.set(name, (line) => onLine("stdout", line));
    return new Promise<void>((resolve) => {
      this.ends.set(name, resolve);
      signal.addEventListener("abort", () => resolve());
    });
  }
}

const texts = (events: LogEvent[]) =>
  events.map((e) =>
    e.kind === "line"
      ? `${e.slot} ${e.text}`
      : e.kind === "error"
        ? `error ${e.message}`
        : `${e.kind} ${e.container}${e.kind === "leave" ? ` ${e.state}` : ""}`,
  );

describe("readLogs", () => {
  it("merges the containers' lines by Docker's time, fractions of any length", async () => {
    const source = new FakeSource();
    source.add("c1", 1, "running", ["2025-06-01T10:00:00.2Z b", "2025-06-01T10:00:01Z d"]);
    source.add("c0", 0, "exited", [
      "2025-06-01T10:00:00.15Z a",
      "2025-06-01T10:00:00.900000001Z c",
    ]);
    const events: LogEvent[] = [];
    await readLogs({ id: ID, follow: false, tail: 5, json: true }, (e) => events.push(e), source);
    expect(texts(events)).toStrictEqual(["0 a", "1 b", "0 c", "1 d"]);
    expect(source.reads.map((r) => r.query)).toStrictEqual([
      { follow: false, sinceNs: undefined, tail: 5 },
      { follow: false, sinceNs: undefined, tail: 5 },
    ]);
  });

  it("takes --since back from now", async () => {
    const source = new FakeSource();
    source.add("c0", 0);
    await readLogs(
      { id: ID, follow: false, since: "10m", json: true },
      () => undefined,
      source,
      1_000_000_000,
    );
    expect(source.reads[0].query.sinceNs).toBe(BigInt(1_000_000_000 - 600_000) * 1_000_000n);
  });

  it("reports a container it cannot read and goes on", async () => {
    const source = new FakeSource();
    source.add("c0", 0, "running", ["2025-06-01T10:00:00Z a"]);
    source.add("c1", 1);
    const read = source.read.bind(source);
    source.read = (name, ...rest) =>
      name === "c1"
        ? Promise.reject(new Error("configured logging driver does not support reading"))
        : read(name, ...rest);
    const events: LogEvent[] = [];
    await readLogs({ id: ID, follow: false, json: true }, (e) => events.push(e), source);
    expect(texts(events)).toContain("0 a");
    expect(texts(events)).toContain("error configured logging driver does not support reading");
  });
});

const tick = () => new Promise((r) => setTimeout(r, 30));

describe("followLogs", () => {
  it("follows across a deploy: the new containers join from their first line, the old leave", async () => {
    const source = new FakeSource();
    source.add("old0", 0, "running", ["2025-06-01T10:00:00Z old 0 up"]);
    source.add("old1", 1, "exited"); // not running: not followed
    const events: LogEvent[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const following = followLogs(
      { id: ID, follow: true, tail: 10, json: true },
      (e) => events.push(e),
      source,
      stopped,
      10,
    );
    await tick();
    source.write("old0", "2025-06-01T10:00:01Z old 0 busy");
    source.add("new0", 0, "running", ["2025-06-01T10:00:02Z new 0 listening"]);
    source.add("new1", 1, "created");
    await tick();
    source.containers.find((c) => c.name === "new1")!.state = "running";
    await tick();
    source.stopContainer("old0");
    await tick();
    source.write("new0", "2025-06-01T10:00:03Z new 0 busy");
    stop();
    await following;
    expect(texts(events)).toStrictEqual([
      "0 old 0 up",
      "0 old 0 busy",
      "join new0",
      "0 new 0 listening",
      "join new1",
      "leave old0 exited",
      "0 new 0 busy",
    ]);
    expect(source.reads.map((r) => [r.name, r.query])).toStrictEqual([
      ["old0", { follow: true, sinceNs: undefined, tail: 10 }],
      ["new0", { follow: true, sinceNs: undefined }],
      ["new1", { follow: true, sinceNs: undefined }],
    ]);
  });

  it("follows a container the supervisor restarted again after its last line", async () => {
    const source = new FakeSource();
    source.add("c0", 0, "running", ["2025-06-01T10:00:00.5Z before"]);
    const events: LogEvent[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const following = followLogs(
      { id: ID, follow: true, json: true },
      (e) => events.push(e),
      source,
      stopped,
      10,
    );
    await tick();
    source.stopContainer("c0");
    await tick();
    source.containers[0].state = "running";
    source.lines.set("c0", []);
    await tick();
    stop();
    await following;
    expect(texts(events)).toStrictEqual(["0 before", "leave c0 exited", "join c0"]);
    expect(source.reads[1].query.sinceNs).toBe(1_748_772_000_500_000_001n);
  });

  // Seen on the test fleet: the stream ends as the process exits, Docker still lists it running.
  it("does not join again a container listed running just after its stream ended", async () => {
    const source = new FakeSource();
    source.add("old0", 0);
    source.times = async (name) => ({
      startedAt: `start of ${name}`,
      finishedAt: `end of ${name}`,
    });
    const events: LogEvent[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const following = followLogs(
      { id: ID, follow: true, json: true },
      (e) => events.push(e),
      source,
      stopped,
      10,
    );
    await tick();
    source.stopContainer("old0", "running"); // stream over, state not yet
    await tick();
    expect(texts(events)).toStrictEqual([]);
    source.containers[0].state = "exited";
    source.add("new0", 0);
    await tick();
    stop();
    await following;
    expect(events.map((e) => `${e.kind} ${e.time}`)).toStrictEqual([
      "leave end of old0",
      "join start of new0",
    ]);
  });

  it("says a container that is gone left as removed", async () => {
    const source = new FakeSource();
    source.add("c0", 0);
    const events: LogEvent[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const following = followLogs(
      { id: ID, follow: true, json: true },
      (e) => events.push(e),
      source,
      stopped,
      10,
    );
    await tick();
    source.containers = [];
    source.stopContainer = () => undefined;
    (source as unknown as { ends: Map<string, () => void> }).ends.get("c0")!();
    await tick();
    stop();
    await following;
    expect(texts(events)).toStrictEqual(["leave c0 removed"]);
  });
});
