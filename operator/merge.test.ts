// Merging the hosts' log events by time, and the lines `npx conductor logs` prints.
import type { LogEvent } from "../protocol/logs";
import { formatHostEvent, type HostEvent, LogMerger } from "./merge";

const line = (time: string, text: string, slot = 0): LogEvent => ({
  kind: "line",
  time,
  slot,
  container: `c${slot}`,
  stream: "stdout",
  text,
});
const T = (s: string) => `2025-06-01T10:00:${s}Z`;

describe("LogMerger", () => {
  it("all at once: in time order across hosts, arrival order for equal times", () => {
    const out: string[] = [];
    const merger = new LogMerger((e) => out.push((e.event as { text: string }).text), 500);
    merger.push("h2", line(T("01.5"), "h2 b"), 0);
    merger.push("h2", line(T("03"), "h2 d"), 0);
    merger.push("h1", line(T("01.123456789"), "h1 a"), 0);
    merger.push("h1", line(T("03"), "h1 e"), 0);
    merger.push("h1", line(T("02"), "h1 c"), 0);
    merger.flush(0, true);
    expect(out).toStrictEqual(["h1 a", "h2 b", "h1 c", "h2 d", "h1 e"]);
  });

  it("following: holds each event, lets an earlier one from a slower host go first", () => {
    const out: string[] = [];
    const merger = new LogMerger((e) => out.push((e.event as { text: string }).text), 500);
    merger.push("h1", line(T("02"), "h1 later"), 1000);
    merger.flush(1200);
    expect(out).toStrictEqual([]);
    merger.push("h2", line(T("01"), "h2 earlier"), 1300);
    merger.flush(1500);
    expect(out).toStrictEqual(["h2 earlier", "h1 later"]);
    // Too late to go before what was printed: printed as it comes, not dropped.
    merger.push("h3", line(T("00"), "h3 late"), 1600);
    merger.flush(2100);
    expect(out).toStrictEqual(["h2 earlier", "h1 later", "h3 late"]);
  });

  it("keeps what is not due yet", () => {
    const out: string[] = [];
    const merger = new LogMerger((e) => out.push((e.event as { text: string }).text), 500);
    merger.push("h1", line(T("01"), "due"), 0);
    merger.push("h1", line(T("05"), "not yet"), 400);
    merger.flush(500);
    expect(out).toStrictEqual(["due"]);
    merger.flush(900);
    expect(out).toStrictEqual(["due", "not yet"]);
  });
});

describe("formatHostEvent", () => {
  it.each<[HostEvent, string]>([
    [
      { host: "h1", event: line("2025-06-01T10:00:00.123456789Z", "listening", 1) },
      "h1/1 2025-06-01T10:00:00.123Z listening",
    ],
    [{ host: "h2", event: line("2025-06-01T10:00:00Z", "") }, "h2/0 2025-06-01T10:00:00.000Z "],
    [
      {
        host: "h1",
        event: {
          kind: "join",
          time: "2025-06-01T10:00:01.000Z",
          slot: 0,
          container: "web-0-ab",
          revision: "bbbbbbb",
        },
      },
      "h1/0 2025-06-01T10:00:01.000Z -- joined: web-0-ab (revision bbbbbbb)",
    ],
    [
      {
        host: "h1",
        event: {
          kind: "leave",
          time: "2025-06-01T10:00:02.000Z",
          slot: 1,
          container: "web-1-cd",
          state: "removed",
        },
      },
      "h1/1 2025-06-01T10:00:02.000Z -- left: web-1-cd (removed)",
    ],
    [
      {
        host: "h3",
        event: {
          kind: "error",
          time: "2025-06-01T10:00:03.000Z",
          container: "web-0-ef",
          message: "docker logs web-0-ef: no",
        },
      },
      "h3 2025-06-01T10:00:03.000Z -- error reading web-0-ef: docker logs web-0-ef: no",
    ],
  ])("%j", (event, text) => {
    expect(formatHostEvent(event)).toBe(text);
  });
});
