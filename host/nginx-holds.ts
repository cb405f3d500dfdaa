// Holds: replicas the supervisor keeps out of their service's nginx rotation
// while it repairs them, until they answer their health check again
// (supervise/holds.ts says why and when). A held server stays in the upstream
// as a `backup`: nginx sends it nothing while another server of the upstream
// takes connections, and still tries it when every other one fails (a second
// fault), where `down` would answer 502 at once. The deploy writes the upstream
// without holds (components/nginx-config.ts); the committer (nginx.ts) adds
// them to every file it writes, from the holds current under the nginx lock.
// What a server line of ours looks like is known here alone.

const HELD_TAIL = " backup; # held out by conductor supervise until it answers its health check";
/**
 * A server line as components/nginx-config.ts writes it, unmarked or with
 * exactly the mark added here: $1 its head, $2 the port. Any other tail (a
 * `backup` or a comment added by hand) is not ours to take out: that line is
 * left alone, and a refresh sees it as drift.
 */
const SERVER_LINE = new RegExp(
  String.raw`^(\s*server 127\.0\.0\.1:(\d+) max_fails=0)(?:;|${HELD_TAIL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})$`,
  "gm",
);

/** Host port -> when it was held (ms since the epoch). */
export type HeldPorts = ReadonlyMap<number, number>;

/** The file as the deploy wrote it: every hold taken out. */
export function withoutHolds(config: string): string {
  return config.replace(SERVER_LINE, "$1;");
}

/**
 * The file with the held servers marked `backup`. Never every server of the
 * upstream: nginx rejects an upstream of backups only, and with every
 * replica held the one held longest is the likeliest to serve soonest, so
 * it (with any held as long) stays in rotation.
 */
export function withHolds(config: string, held: HeldPorts): string {
  const base = withoutHolds(config);
  const ports = [...base.matchAll(SERVER_LINE)].map((m) => Number(m[2]));
  const heldHere = ports.filter((p) => held.has(p));
  if (heldHere.length === 0) return base;
  const marked = new Set(heldHere);
  if (heldHere.length === ports.length) {
    const first = Math.min(...heldHere.map((p) => held.get(p) ?? 0));
    for (const p of heldHere) if (held.get(p) === first) marked.delete(p);
  }
  return base.replace(SERVER_LINE, (line, head: string, port: string) =>
    marked.has(Number(port)) ? `${head}${HELD_TAIL}` : line,
  );
}

/** The ports marked held in a file, for messages. */
export function heldIn(config: string): number[] {
  return [...config.matchAll(SERVER_LINE)]
    .filter((m) => m[0].includes(HELD_TAIL))
    .map((m) => Number(m[2]));
}

/**
 * Every port a file of ours sends requests to, held or not, whatever a hand
 * edit added after it: the release's last check before it stops a container
 * (release.ts) errs on the side of "still routed".
 */
export function routedPorts(config: string): Set<number> {
  return new Set(
    [...config.matchAll(/^\s*server\s+127\.0\.0\.1:(\d+)\b/gm)].map((m) => Number(m[1])),
  );
}
