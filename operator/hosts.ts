// Reaching a stack's hosts exactly as the deploy does (provider/transport.ts:
// the same SSH options, the key from conductor:sshPrivateKey in a 0600 file,
// else the ssh-agent), and asking every host at once.
import type { Host } from "../config/model";
import type { Connection } from "../protocol/connection";

export function connectionOf(host: Host, privateKey?: string): Connection {
  const { name, address, local, user, port } = host;
  return { host: name, address, local, user, port, privateKey };
}

/** What one host answered, or why it could not. */
export type Reached<T> =
  { host: string; ok: true; value: T } | { host: string; ok: false; error: string };

/**
 * The error of a host command without its `host <name>: ` (the caller says
 * which host) and without the host's log after it: one line for a table.
 */
export function reason(host: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split("\n")[0];
  return first.startsWith(`host ${host}: `) ? first.slice(`host ${host}: `.length) : first;
}

export function onEveryHost<T>(
  hosts: Host[],
  privateKey: string | undefined,
  ask: (conn: Connection) => Promise<T>,
): Promise<Reached<T>[]> {
  return Promise.all(
    hosts.map(async (h): Promise<Reached<T>> => {
      try {
        return { host: h.name, ok: true, value: await ask(connectionOf(h, privateKey)) };
      } catch (err) {
        return { host: h.name, ok: false, error: reason(h.name, err) };
      }
    }),
  );
}
