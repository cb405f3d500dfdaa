// Preview steps -> one change per resource: what it was, what it will be,
// and which of its inputs Pulumi or the provider said changed.
import { isDeepStrictEqual } from "node:util";
import { DigestError, type Inputs, type Step, urnName } from "./digest";

export type Effect = "none" | "create" | "update" | "replace" | "delete";

/**
 * What each step op means for the fleet. A replacement is one logical
 * "replace" step; its create/delete halves only show with
 * --show-replacement-steps and are folded into it ("part").
 */
const EFFECTS: Readonly<Record<string, Effect | "part">> = {
  same: "none",
  read: "none",
  "read-replacement": "none",
  refresh: "none",
  discard: "none",
  diff: "none",
  create: "create",
  import: "create",
  update: "update",
  replace: "replace",
  "import-replacement": "replace",
  delete: "delete",
  "create-replacement": "part",
  "delete-replaced": "part",
  "discard-replaced": "part",
  "remove-pending-replace": "part",
};

export interface Change {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  effect: Effect;
  /** Inputs before the deploy; absent for a resource it creates. */
  before?: Inputs;
  /** Inputs after the deploy; absent for a resource it deletes. */
  after?: Inputs;
  /** Top-level input names reported as changed (replaceReasons, diffReasons, detailedDiff). */
  reported: Set<string>;
}

export function changesOf(steps: Step[]): Change[] {
  const changes: Change[] = [];
  for (const step of steps) {
    const effect = EFFECTS[step.op];
    if (effect === undefined) {
      throw new DigestError(`unknown step op "${step.op}" for ${step.urn}`);
    }
    if (effect !== "part") changes.push(changeOf(step, effect));
  }
  return changes;
}

function changeOf(step: Step, effect: Effect): Change {
  const state = step.newState ?? step.oldState;
  return {
    urn: step.urn,
    type: state?.type ?? "",
    name: urnName(step.urn),
    parent: state?.parent,
    effect,
    before: effect === "create" ? undefined : step.oldState?.inputs,
    after: effect === "delete" ? undefined : step.newState?.inputs,
    reported: reportedKeys(step),
  };
}

/** `http.port` and `env["A"]` both count as `http` and `env`. */
function reportedKeys(step: Step): Set<string> {
  const paths = [
    ...(step.replaceReasons ?? []),
    ...(step.diffReasons ?? []),
    ...Object.keys(step.detailedDiff ?? {}),
  ];
  return new Set(paths.map((p) => p.split(/[.[]/)[0]));
}

/** Input names whose values differ between before and after, as far as they can be seen. */
export function differingKeys(change: Change): string[] {
  const { before = {}, after = {} } = change;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !isDeepStrictEqual(before[k], after[k])).sort();
}
