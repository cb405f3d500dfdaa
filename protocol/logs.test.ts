// The log protocol's pure parts: times that sort, durations, the command line.
import { logEvent, logsArgv, parseSince, timeKey } from "./logs";

describe("timeKey", () => {
  it.each([
    ["2025-06-01T10:00:00Z", 1_748_772_000_000_000_000n],
    ["2025-06-01T10:00:00.5Z", 1_748_772_000_500_000_000n],
    ["2025-06-01T10:00:00.123456789Z", 1_748_772_000_123_456_789n],
    ["2025-06-01T10:00:00.123+00:00", 1_748_772_000_123_000_000n],
    ["not a time", 0n],
  ])("%s", (text, key) => {
    expect(timeKey(text)).toBe(key);
  });

  it("orders what string order gets wrong (Docker cuts trailing zeros)", () => {
    const a = "2025-06-01T10:00:00.5Z";
    const b = "2025-06-01T10:00:00.123456789Z";
    expect(a > b).toBe(true);
    expect(timeKey(a) > timeKey(b)).toBe(true);
  });
});

describe("parseSince", () => {
  it.each<[string, number | undefined]>([
    ["500ms", 500],
    ["30s", 30_000],
    ["10m", 600_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["10", undefined],
    ["1.5h", undefined],
    ["-1m", undefined],
    ["2025-06-01", undefined],
  ])("%s", (text, ms) => {
    expect(parseSince(text)).toBe(ms);
  });
});

describe("logsArgv", () => {
  it("asks for JSON, with what was given", () => {
    expect(logsArgv("a_web_p", { follow: true, since: "10m", tail: 5 })).toStrictEqual([
      "/usr/local/bin/conductor",
      "logs",
      "--id",
      "a_web_p",
      "--json",
      "--follow",
      "--since",
      "10m",
      "--tail",
      "5",
    ]);
    expect(logsArgv("a_web_p", { follow: false })).toStrictEqual([
      "/usr/local/bin/conductor",
      "logs",
      "--id",
      "a_web_p",
      "--json",
    ]);
  });
});

describe("logEvent", () => {
  it("takes each kind and refuses what it does not know", () => {
    const line = { kind: "line", time: "t", slot: 0, container: "c", stream: "stdout", text: "" };
    expect(logEvent.safeParse(line).success).toBe(true);
    expect(logEvent.safeParse({ ...line, extra: 1 }).success).toBe(false);
    expect(logEvent.safeParse({ kind: "error", time: "t", message: "m" }).success).toBe(true);
    expect(logEvent.safeParse({ kind: "bye", time: "t" }).success).toBe(false);
  });
});
