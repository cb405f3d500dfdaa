// What the supervisor does about one container in one pass: a pure function of
// what should run, what Docker shows, and what the supervisor remembers, so
// the rules can be read (and tested) as a table. README: "Supervision".

/** What Docker shows for a container, with the health probe if it runs. */
export type Observed =
  | { state: "missing" }
  | { state: "stopped"; oom?: "killed" | "likely" } // created, exited or dead; oom: container.ts oomOf
  | { state: "removing" } // `docker rm -f` under way: its destroy event follows
  | { state: "running"; healthy: boolean | undefined }; // undefined: no health check

/** What the supervisor remembers of a container between passes. */
export interface Memory {
  /** Health checks failed in a row while running. */
  failures: number;
  /** Actions taken since the container was last healthy (or running, without a health check). */
  attempts: number;
  /** No action before this time (ms since epoch): the crash-loop back-off. */
  notBefore: number;
  restarts: number;
}

export type Action =
  | { kind: "none" }
  | { kind: "wait"; reason: string; untilMs: number }
  | { kind: "recreate"; reason: string }
  | { kind: "start"; reason: string }
  | { kind: "restart"; reason: string };

export const FAILURES_BEFORE_RESTART = 3;
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

export const freshMemory = (): Memory => ({ failures: 0, attempts: 0, notBefore: 0, restarts: 0 });

/** Back-off after `attempts` actions that did not bring the container back: 5s, 10s, 20s ... 5 min. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
}

/** When the last action was taken: act() set notBefore that long after it. */
function actedAt(memory: Memory): number {
  return memory.notBefore - backoffMs(memory.attempts);
}

export interface Decision {
  action: Action;
  memory: Memory;
}

export function decide(observed: Observed, memory: Memory, now: number): Decision {
  if (observed.state === "running" && observed.healthy !== false) {
    // Healthy (or running, without a health check): all is forgiven, once it
    // has stayed up BACKOFF_BASE_MS since the last action. Until then a crash
    // (which Docker's events report at once) still waits out the back-off: a
    // container that crashes 3 s after each start backs off, and none is
    // repaired more often than every 5 s.
    const settled = memory.attempts === 0 || now >= actedAt(memory) + BACKOFF_BASE_MS;
    return {
      action: { kind: "none" },
      memory: settled
        ? { ...memory, failures: 0, attempts: 0, notBefore: 0 }
        : { ...memory, failures: 0 },
    };
  }
  if (observed.state === "running") return unhealthy(memory, now);
  // Its die event comes while Docker is still removing it: starting it then
  // fails ("marked for removal") and would cost an attempt, putting the
  // recreate 5 s later. Its destroy event, a moment later, says it is missing.
  if (observed.state === "removing") return { action: { kind: "none" }, memory };
  const wanted: Action =
    observed.state === "missing"
      ? { kind: "recreate", reason: "container missing" }
      : { kind: "start", reason: STOPPED[observed.oom ?? "none"] };
  return act(wanted, { ...memory, failures: 0 }, now);
}

/** Why a container stopped, when it ran out of memory at its limit (resources.memory). */
const STOPPED = {
  killed: "container stopped, OOM-killed at its memory limit",
  likely: "container stopped, killed by SIGKILL at its memory limit: likely OOM",
  none: "container stopped",
};

function unhealthy(memory: Memory, now: number): Decision {
  const failures = memory.failures + 1;
  if (failures < FAILURES_BEFORE_RESTART) {
    return { action: { kind: "none" }, memory: { ...memory, failures } };
  }
  const reason = `health check failed ${failures} times in a row`;
  return act({ kind: "restart", reason }, { ...memory, failures }, now);
}

/** Takes the action unless backing off; each action pushes the next one further away. */
function act(action: Action, memory: Memory, now: number): Decision {
  if (now < memory.notBefore) {
    const reason = `${"reason" in action ? action.reason : ""}, backing off`;
    return { action: { kind: "wait", reason, untilMs: memory.notBefore }, memory };
  }
  const attempts = memory.attempts + 1;
  return {
    action,
    memory: {
      failures: action.kind === "restart" ? 0 : memory.failures,
      attempts,
      notBefore: now + backoffMs(attempts),
      restarts: memory.restarts + 1,
    },
  };
}
