// Containers that `release apply` stopped and removed during this deploy,
// by host: Pulumi's deletes of the replaced containers come later in the same
// `pulumi up` (the same provider process), and for these there is nothing
// left to do, so they run no host command (issue 11: each one was a Node.js
// start on the host, or an ssh session, for two 404s from Docker; 20 of the
// 70 host commands of a revision change of 10 services x 2).
// Safe because a removed container is gone for good: its record went first,
// under the service's lock, so the supervisor does not bring it back, and a
// name is a fingerprint of its spec, so this deploy starts no other by it.
import type { Connection } from "../../protocol/connection";

const removed = new Set<string>();

/** The host by how it is reached: two names for one address are one host. */
const keyOf = (conn: Connection, name: string) =>
  JSON.stringify([conn.local ? "local" : `${conn.user}@${conn.address}:${conn.port}`, name]);

export function rememberRemoved(conn: Connection, names: readonly string[]): void {
  for (const name of names) removed.add(keyOf(conn, name));
}

/** Whether a release of this deploy removed the container; forgets it (a delete asks once). */
export function takeRemoved(conn: Connection, name: string): boolean {
  return removed.delete(keyOf(conn, name));
}
