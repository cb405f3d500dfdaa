// Which env keys a deploy adds, changes or removes on a service's containers.
// Values are compared here and never leave this file: only key names do.
import { isDeepStrictEqual } from "node:util";
import type { Change } from "./changes";
import { isHidden, isRecord } from "./digest";

export type EnvChange =
  | { kind: "same" }
  | { kind: "keys"; added: string[]; changed: string[]; removed: string[] }
  /**
   * The env is a secret as a whole (conductor makes every service's env secret
   * once any value is), so its keys cannot be read: `changed` is what the
   * provider's diff says; a new service or host only gets it.
   */
  | { kind: "secret"; changed: boolean };

/** The env change of one service on one host, from its containers' changes. */
export function envChange(containers: Change[]): EnvChange {
  const before = containers.find((c) => c.before)?.before?.env;
  const after = containers.find((c) => c.after)?.after?.env;
  if (after === undefined) return { kind: "same" };
  const isNew = !containers.some((c) => c.before);
  const reported = containers.some((c) => c.reported.has("env"));
  if (isVisible(after) && (isNew || isVisible(before))) {
    const keys = diffKeys(isNew ? {} : (before as Record<string, unknown>), after);
    const found = keys.added.length + keys.changed.length + keys.removed.length > 0;
    if (found) return { kind: "keys", ...keys };
    // Same keys and equal visible values, yet the provider saw a change: a hidden value.
    return reported ? { kind: "secret", changed: true } : { kind: "same" };
  }
  if (isNew) return { kind: "secret", changed: false };
  return reported ? { kind: "secret", changed: true } : { kind: "same" };
}

function isVisible(env: unknown): env is Record<string, unknown> {
  return isRecord(env) && !isHidden(env);
}

function diffKeys(before: Record<string, unknown>, after: Record<string, unknown>) {
  const had = (k: string) => Object.prototype.hasOwnProperty.call(before, k);
  const has = (k: string) => Object.prototype.hasOwnProperty.call(after, k);
  const differs = (k: string) =>
    isHidden(before[k]) || isHidden(after[k])
      ? false // a hidden value's change is only known from the provider's diff
      : !isDeepStrictEqual(before[k], after[k]);
  return {
    added: Object.keys(after)
      .filter((k) => !had(k))
      .sort(),
    changed: Object.keys(after)
      .filter((k) => had(k) && differs(k))
      .sort(),
    removed: Object.keys(before)
      .filter((k) => !has(k))
      .sort(),
  };
}
