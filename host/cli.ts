// Parses the command lines operators (and cron) type, into typed options.
import minimist from "minimist";
import { REVISION, REVISION_RULE } from "../protocol/rules";
import { type RunOptions, UsageError } from "./run";

/**
 * `run [--id <id>] [--revision <sha>] [-i] [--lock] [--] <command...>`.
 * Options end at the first word that is not one (or at `--`), so the
 * command's own flags (`bin/rails runner -e production ...`) stay its own.
 */
export function parseRunArgs(argv: string[]): RunOptions {
  const unknown: string[] = [];
  const args = minimist(argv, {
    string: ["id", "revision", "env"],
    boolean: ["interactive", "lock"],
    alias: { i: "interactive" },
    stopEarly: true,
    "--": true,
    unknown: (arg) => {
      if (arg.startsWith("-")) unknown.push(arg);
      return !arg.startsWith("-");
    },
  });
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}\n${RUN_USAGE}`);
  if (!args.id) throw new UsageError(`--id is required\n${RUN_USAGE}`);
  if (args.revision !== undefined && !REVISION.test(args.revision)) {
    throw new UsageError(
      `--revision: expected ${REVISION_RULE}, got ${JSON.stringify(args.revision)}`,
    );
  }
  return {
    id: args.id,
    revision: args.revision,
    interactive: args.interactive,
    lock: args.lock,
    // --env NAME: pass NAME from this process's environment (cron's env lines).
    envNames: ([] as string[]).concat(args.env ?? []),
    command: [...args._.map(String), ...(args["--"] ?? [])],
  };
}

export const RUN_USAGE = `usage: conductor run --id <service id> [--revision <sha>] [-i] [--lock] [--env NAME]... [--] <command...>
  --revision  run this revision's image (default: the deployed one)
  -i          interactive: a terminal, for consoles (sh, bin/rails console)
  --lock      do nothing if this command of this service is still running
  --env NAME  also pass NAME, from this environment (cron jobs use it for the crontab's env lines)`;
