// A fake of the transport for the provider's handler tests: no host, no ssh.
import type { Connection } from "../protocol/connection";
import type { RunOnHost } from "./transport";

/** One command a handler ran on the fake host. */
export interface Call {
  conn: Connection;
  argv: string[];
  input: string;
}

/** A host that answers each command with the next of `stdouts`, recording what ran. */
export function scriptedHost(...stdouts: string[]): { run: RunOnHost; calls: Call[] } {
  const calls: Call[] = [];
  const run: RunOnHost = async (conn, argv, input) => {
    calls.push({ conn, argv, input });
    const stdout = stdouts.shift();
    if (stdout === undefined) throw new Error(`unexpected command ${argv.join(" ")}`);
    return stdout;
  };
  return { run, calls };
}
