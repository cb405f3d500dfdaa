/**
 * The config layer's front door: raw stack config in, a Fleet or every problem out.
 * Pure (no Pulumi), so it is tested without mocks and shared by the program and its tools.
 */
import { buildFleet } from "./build";
import { CHECKS } from "./checks";
import { formatPath, inConfigOrder } from "./issues";
import type { Issue, LoadResult, RawFleetInput } from "./model";
import { parseFleet } from "./parse";

export function loadFleet(input: RawFleetInput): LoadResult {
  const { draft, issues } = parseFleet(input);
  const found = [...issues, ...CHECKS.flatMap((check) => check(draft))];
  if (found.length === 0) return { ok: true, fleet: buildFleet(draft) };
  const { stack, app, revision, hosts, services, registries } = input;
  // Stack first (it comes from the command line), then config keys in the order written.
  const tree = { stack, app, revision, hosts, services, registries };
  return {
    ok: false,
    issues: inConfigOrder(found, tree).map((i) => ({
      path: formatPath(i.path),
      message: i.message,
    })),
  };
}

/**
 * One block for `pulumi up` to print. Issues keep their order, those sharing a path together
 * where that path first appears (loadFleet already returns them in config order).
 */
export function formatIssues(issues: readonly Issue[]): string {
  const paths = [...new Set(issues.map((i) => i.path))];
  const lines = paths.flatMap((path) =>
    issues.filter((i) => i.path === path).map((i) => `  ${i.path}: ${i.message}`),
  );
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  return [`invalid conductor config (${count}):`, ...lines].join("\n");
}
