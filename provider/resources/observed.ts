// What every `read` (pulumi refresh, README: "Drift and `pulumi refresh`")
// shares: asking the host what it really has, and turning the answer into the
// state the engine stores. The engine then runs our diff between that state
// and the stored inputs, both for what `refresh` shows and for the next `up`;
// so a read reports drift only where diff looks: the inputs' own keys (the
// real value in place of the stored one), or `drift` for what no input
// describes (a stopped container, an edited cron file).
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../../protocol/connection";
import type { ResourceType } from "../../protocol/names";
import type { AnswerOf, HostCommand, RequestOf } from "../../protocol/requests";
import { CONDUCTOR_BIN } from "../../protocol/rules";
import { containsSecret, reveal, secret } from "../secrets";
import { conductor, type RunOnHost } from "../transport";
import { installedSha256 } from "./agent";
import type { Say } from "./types";

/** The output that says what the host has that no input describes; absent when nothing. */
export const DRIFT = "drift";

/** The resource is not on the host: refresh drops it from the state, the next `up` creates it. */
export const GONE: pulumi.provider.ReadResult = { id: "", props: {} };

/**
 * Asks the host's conductor; undefined when conductor itself cannot answer
 * (not installed, or too old to know the read): the Agent's read shows that
 * as its own change, and the stored state of this resource is kept, so that
 * `pulumi up --refresh` can reinstall conductor instead of failing at the
 * refresh. Any other failure (an unreachable host, Docker down) fails the read,
 * naming the host (transport.ts), and the engine keeps the stored state.
 */
export async function askHost<C extends HostCommand>(
  type: ResourceType,
  connection: Connection,
  command: C,
  request: RequestOf<C>,
  run: RunOnHost,
  say?: Say,
): Promise<AnswerOf<C> | undefined> {
  try {
    return await conductor(connection, command, request, run);
  } catch (err) {
    const why = await whyConductorCannotAnswer(connection, command, err as Error, run);
    if (!why) throw err;
    await say?.(
      `host ${connection.host}: ${why}, so this ${type} was not read and its stored state is kept; ` +
        "`pulumi up` installs conductor (the host's fleet:index:Agent), then refresh again",
    );
    return undefined;
  }
}

async function whyConductorCannotAnswer(
  connection: Connection,
  command: HostCommand,
  err: Error,
  run: RunOnHost,
): Promise<string | undefined> {
  // The host command's own usage error (cli/commands.ts) for a subcommand it lacks.
  if (err.message.includes(`unknown command ${command}`))
    return `its conductor is older than this deploy (it has no \`${command}\`)`;
  // Checked only when the command itself was not found: after any other failure (a
  // host that drops packets, ssh's exit 255) a check would wait for a second timeout.
  if (!commandNotFound(err.message)) return undefined;
  const installed = await installedSha256(connection, run).catch(() => "unknown");
  return installed === undefined ? `${CONDUCTOR_BIN} is missing` : undefined;
}

/**
 * The shell's or spawn's words for a command it cannot run, naming our path:
 * dash's "<path>: not found", bash's "No such file or directory" (exit 127),
 * "Permission denied" (126), or Node's "spawn <path> ENOENT" on the local host.
 */
function commandNotFound(message: string): boolean {
  return (
    message.includes(CONDUCTOR_BIN) &&
    /not found|no such file or directory|permission denied|ENOENT|EACCES/i.test(message)
  );
}

/**
 * The stored state with the host's values (`actual`, by input) where they
 * differ from the stored ones (`stored`: the state read through the inputs'
 * schema, defaults applied, so an input the engine left out is not a change),
 * and `drift` set or cleared. A value that was secret, or held a secret, is
 * secret again: refresh stores it and shows it as [secret].
 */
export function observedState(
  state: Record<string, unknown>,
  stored: Record<string, unknown>,
  actual: Record<string, unknown>,
  drift?: string,
): Record<string, unknown> {
  const props = withoutDrift(state);
  for (const [key, value] of Object.entries(actual)) {
    if (isDeepStrictEqual(reveal(stored[key]), value)) continue;
    // The engine's wire format has no undefined: null is "not there".
    const real = value === undefined ? null : value;
    props[key] = containsSecret(state[key]) ? secret(real) : real;
  }
  return drift === undefined ? props : { ...props, [DRIFT]: drift };
}

/** The state less the drift an earlier read found: each read says it anew. */
export function withoutDrift(state: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).filter(([key]) => key !== DRIFT));
}

/** Whether a read left `drift` in the state: the next `up` repairs it (diff.ts). */
export const hasDrift = (state: Record<string, unknown>) => state[DRIFT] !== undefined;
