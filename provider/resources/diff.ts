import { isDeepStrictEqual } from "node:util";
import { reveal } from "../secrets";
import { hasDrift } from "./observed";

/** The keys among `keys` whose (revealed) values differ between olds and news. */
export function changedKeys(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  keys: readonly string[],
): string[] {
  return keys.filter((k) => !isDeepStrictEqual(reveal(olds[k]), reveal(news[k])));
}

/**
 * The connection is how we reach a host, not what runs there: a changed key or
 * address updates the stored connection (deletes run with the stored one)
 * without restarting anything. Drift a refresh found (observed.ts) is an
 * update: the handler's update puts back what the inputs say.
 */
export function diffWith(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  replaceOn: readonly string[],
  updateOn: readonly string[],
) {
  const replaces = changedKeys(olds, news, replaceOn);
  const updates = changedKeys(olds, news, ["connection", ...updateOn]);
  const changes = replaces.length + updates.length > 0 || hasDrift(olds);
  return { changes, replaces, deleteBeforeReplace: false };
}
