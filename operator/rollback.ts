// `npx conductor rollback --stack S [--to SHA] [--yes]`: sets conductor:revision
// to the previous successful revision (or --to) and deploys it through
// `pulumi up`, after showing the preview and asking, unless --yes. Services
// with their own `revision` are left as they are. Declined, or a failed
// preview: the config gets its old revision back and nothing is deployed.
import * as readline from "node:readline";
import type { Fleet } from "../config/model";
import { REVISION, REVISION_RULE } from "../protocol/rules";
import { previousRelease, type Release } from "./history";
import { shortTime } from "./table";

export interface RollbackPlan {
  /** conductor:revision now, in the stack's config. */
  from?: string;
  to: string;
  /** The release of `to` in the history, if it has one. */
  release?: Release;
  /** Services with their own revision, left alone. */
  pinned: [string, string][];
  /** Services that follow conductor:revision: those the rollback changes. */
  following: string[];
}

export class RollbackError extends Error {}

export function planRollback(
  fleet: Fleet,
  pinned: Record<string, string>,
  releases: Release[],
  to?: string,
): RollbackPlan {
  if (to !== undefined && !REVISION.test(to))
    throw new RollbackError(`--to: expected ${REVISION_RULE}, got ${JSON.stringify(to)}`);
  const following = fleet.services.filter((s) => !(s.name in pinned)).map((s) => s.name);
  if (following.length === 0)
    throw new RollbackError(
      `every service of stack ${fleet.stack} sets its own revision: conductor:revision changes none of them`,
    );
  const release = to ? releases.find((r) => r.revision === to) : previousRelease(releases);
  if (!to && !release)
    throw new RollbackError(
      `no earlier successful revision in the history of stack ${fleet.stack} (npx conductor releases lists them)`,
    );
  const target = to ?? release!.revision;
  if (target === fleet.revision && releases.find((r) => r.current)?.revision === target)
    throw new RollbackError(`stack ${fleet.stack} runs ${target} already`);
  return {
    from: fleet.revision,
    to: target,
    release,
    pinned: Object.entries(pinned).sort(([a], [b]) => a.localeCompare(b)),
    following,
  };
}

export function describePlan(stack: string, plan: RollbackPlan): string {
  const when = plan.release
    ? `deployed ${shortTime(plan.release.last.endTime ?? plan.release.last.startTime)}, update ${plan.release.last.version}`
    : "not in the stack's history: its images may have to be pulled";
  const lines = [
    `Rolling back stack ${stack}: conductor:revision ${plan.from ?? "(unset)"} -> ${plan.to} (${when}).`,
    `Services that follow conductor:revision: ${plan.following.join(", ")}.`,
    plan.pinned.length
      ? `Left as they are, with their own revision: ${plan.pinned.map(([n, r]) => `${n} (${r})`).join(", ")}.`
      : "No service sets its own revision.",
  ];
  return `${lines.join("\n")}\n`;
}

/** A line from stdin: yes only for y or yes; no at the end of input. */
export function ask(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(/^(y|yes)$/i.test(answer.trim()));
    });
    rl.on("close", () => {
      if (!answered) resolve(false);
    });
  });
}
