import { type Action, backoffMs, decide, freshMemory, type Memory, type Observed } from "./decide";

const NOW = 1_000_000;
const memory = (overrides: Partial<Memory> = {}): Memory => ({ ...freshMemory(), ...overrides });

describe("decide", () => {
  it.each<[string, Observed, Memory, Action["kind"], Partial<Memory>]>([
    [
      "leaves a healthy container alone and forgets its troubles",
      { state: "running", healthy: true },
      memory({ failures: 2, attempts: 3, notBefore: NOW + 9 }),
      "none",
      { failures: 0, attempts: 0, notBefore: 0 },
    ],
    [
      "leaves a running container without a health check alone",
      { state: "running", healthy: undefined },
      memory({ attempts: 1 }),
      "none",
      { attempts: 0 },
    ],
    [
      "forgives nothing yet when it is healthy within 5 s of the last action (a crash then still backs off)",
      { state: "running", healthy: true },
      memory({ failures: 1, attempts: 2, notBefore: NOW + 7_000 }), // acted 3 s ago
      "none",
      { failures: 0, attempts: 2, notBefore: NOW + 7_000 },
    ],
    [
      "recreates a missing container",
      { state: "missing" },
      memory(),
      "recreate",
      { attempts: 1, notBefore: NOW + 5_000, restarts: 1 },
    ],
    [
      "waits for a container Docker is removing to be gone (docker rm -f), without counting an attempt",
      { state: "removing" },
      memory(),
      "none",
      { attempts: 0, notBefore: 0, restarts: 0 },
    ],
    [
      "starts a stopped container",
      { state: "stopped" },
      memory(),
      "start",
      { attempts: 1, notBefore: NOW + 5_000, restarts: 1 },
    ],
    [
      "counts a first failed health check, no restart",
      { state: "running", healthy: false },
      memory(),
      "none",
      { failures: 1 },
    ],
    [
      "counts a second failed health check, no restart",
      { state: "running", healthy: false },
      memory({ failures: 1 }),
      "none",
      { failures: 2 },
    ],
    [
      "restarts on the third failed health check in a row",
      { state: "running", healthy: false },
      memory({ failures: 2 }),
      "restart",
      { failures: 0, attempts: 1, notBefore: NOW + 5_000, restarts: 1 },
    ],
    [
      "backs off a crash loop",
      { state: "stopped" },
      memory({ attempts: 3, notBefore: NOW + 1 }),
      "wait",
      { attempts: 3, notBefore: NOW + 1 },
    ],
    [
      "acts again once the back-off is over, and backs off longer",
      { state: "stopped" },
      memory({ attempts: 3, notBefore: NOW, restarts: 3 }),
      "start",
      { attempts: 4, notBefore: NOW + 40_000, restarts: 4 },
    ],
    [
      "does not restart an unhealthy container during its back-off",
      { state: "running", healthy: false },
      memory({ failures: 5, attempts: 1, notBefore: NOW + 1 }),
      "wait",
      { failures: 6 },
    ],
  ])("%s", (_, observed, before, kind, expected) => {
    const { action, memory: after } = decide(observed, before, NOW);
    expect(action.kind).toBe(kind);
    expect(after).toEqual({ ...before, ...expected });
  });

  it("says why it acts", () => {
    expect(
      decide({ state: "running", healthy: false }, memory({ failures: 2 }), NOW).action,
    ).toEqual({
      kind: "restart",
      reason: "health check failed 3 times in a row",
    });
    expect(
      decide({ state: "stopped" }, memory({ attempts: 1, notBefore: NOW + 7 }), NOW).action,
    ).toEqual({
      kind: "wait",
      reason: "container stopped, backing off",
      untilMs: NOW + 7,
    });
  });

  it.each<["killed" | "likely", string]>([
    ["killed", "container stopped, OOM-killed at its memory limit"],
    ["likely", "container stopped, killed by SIGKILL at its memory limit: likely OOM"],
  ])("says when it ran out of memory (%s)", (oom, reason) => {
    expect(decide({ state: "stopped", oom }, memory(), NOW).action).toEqual({
      kind: "start",
      reason,
    });
  });
});

describe("backoffMs", () => {
  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [6, 160_000],
    [7, 300_000],
    [50, 300_000],
  ])("after %i attempts waits %i ms, never more than 5 minutes", (attempts, ms) => {
    expect(backoffMs(attempts)).toBe(ms);
  });

  it("never gives up: a container broken forever is tried again every 5 minutes", () => {
    let m = memory();
    let now = NOW;
    const actions: number[] = [];
    for (let pass = 0; pass < 400; pass++, now += 5_000) {
      const d = decide({ state: "stopped" }, m, now);
      m = d.memory;
      if (d.action.kind === "start") actions.push(now);
    }
    const gaps = actions.slice(1).map((t, i) => t - actions[i]);
    expect(gaps.slice(-3)).toEqual([300_000, 300_000, 300_000]);
  });
});
