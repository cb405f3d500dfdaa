// Containers that `release apply` stopped and removed during this deploy:
// Pulumi's deletes of the replaced containers come later in the same
// `pulumi up` (the same provider process), and for these there is nothing
// left to do, so they run nothing on the host (issue 11: 20 of the 70 host
// commands of a revision change of 10 services x 2, each a Node.js start or
// an ssh session for two 404s). A release that succeeded stopped and removed
// every container of its service on that host but its own (host/release.ts),
// so no answer is needed: a host command of any version tells nothing new,
// and an older provider is not handed an answer it refuses.
// Safe because a removed container is gone for good: its record went first,
// under the service's lock, so the supervisor does not bring it back, and the
// release runs after every container of its service in this deploy.
import type { Connection } from "../../protocol/connection";

/** The containers each applied release kept, by host and service. */
const kept = new Map<string, Set<string>>();

/** The host by how it is reached: two names for one address are one host. */
const keyOf = (conn: Connection, serviceId: string) =>
  JSON.stringify([conn.local ? "local" : `${conn.user}@${conn.address}:${conn.port}`, serviceId]);

export function releaseApplied(conn: Connection, serviceId: string, containers: readonly string[]) {
  kept.set(keyOf(conn, serviceId), new Set(containers));
}

/** Whether a release of this deploy removed the container: one of its service on that host that it did not keep. */
export function removedByRelease(conn: Connection, serviceId: string, name: string): boolean {
  const release = kept.get(keyOf(conn, serviceId));
  return release !== undefined && !release.has(name);
}
