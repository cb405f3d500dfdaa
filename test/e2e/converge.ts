// What "the next up converges" means after an interrupted deploy, for the
// kill (interrupted.test.ts) and Ctrl-C (ctrl-c.test.ts) tests alike.
import { containersOf } from "./docker";
import type { TestStack } from "./harness";

/**
 * `pulumi up` succeeds without an error, two containers of `id` run, `url`
 * answers `revision`, and a preview then plans no change.
 */
export async function expectNextUpConverges(
  stack: TestStack,
  id: string,
  url: string,
  revision: string,
): Promise<void> {
  const result = await stack.up();
  expect(result.output).not.toMatch(/error:/);
  expect(result.code).toBe(0);

  const containers = await containersOf(id);
  expect(containers.map((c) => c.state)).toEqual(["running", "running"]);
  const body = await (await fetch(url)).text();
  expect(body.trim()).toBe(revision);
  await stack.pulumiOk(["preview", "--expect-no-changes"]);
}
