// `npx conductor`: the operator's side, its command line and what each command
// runs (commands.ts). `run` picks a host of a service from the stack's config
// and runs `conductor run` there over SSH (with a terminal for -i), as if you
// had logged in; its exit code is the command's.
import { spawn } from "node:child_process";
import { commandUsage, defineProgram, parse, UsageError } from "../cli/commands";
import { type LogQuery, parseSince, SINCE_RULE } from "../protocol/logs";
import { CONDUCTOR_BIN, REVISION, REVISION_RULE } from "../protocol/rules";
import { hostCommand } from "../provider/transport";
import { findService, hostsOf, logs, releases, rollback, status } from "./commands";
import { connectionOf } from "./hosts";
import { readStack } from "./stack";

const stackOptions = {
  stack: { type: "string", short: "s", required: true, description: "the Pulumi stack" },
  "config-file": {
    type: "string",
    value: "Pulumi.stack.yaml",
    description: "the stack's config file, if not the default one",
  },
} as const;

const serviceOption = {
  type: "string",
  required: true,
  value: "name",
  description: "the service, by its name in conductor:services",
} as const;

export const OPERATOR_PROGRAM = defineProgram({
  name: "npx conductor",
  commands: {
    status: {
      summary: "every host and service of the stack: revision, containers, health, supervision",
      options: { ...stackOptions, json: { type: "boolean", description: "as JSON" } },
      notes: `  Exit code 0 only when every host answers and every service the config puts
  on it is deployed there, with all its containers running and healthy.`,
    },
    logs: {
      summary: "a service's container logs from all its hosts, merged in time order",
      options: {
        ...stackOptions,
        service: serviceOption,
        follow: {
          type: "boolean",
          short: "f",
          description: "keep following, across deploys, until Ctrl-C",
        },
        since: {
          type: "string",
          value: "duration",
          description: "lines of this last while, e.g. 10m",
        },
        tail: {
          type: "string",
          value: "n",
          description: "the last n lines of each container (default 100 without --since)",
        },
        host: { type: "string", description: "one of the service's hosts only" },
      },
      notes: `  Each line: <host>/<replica slot> <time> <text>. Following, containers that
  start join and those that stop leave, with one line each.`,
    },
    releases: {
      summary: "the revisions deployed to the stack, newest first, from its update history",
      options: stackOptions,
    },
    rollback: {
      summary: "deploy the previous successful revision (or --to) through pulumi up",
      options: {
        ...stackOptions,
        to: {
          type: "string",
          value: "sha",
          description: "this revision instead of the previous one",
        },
        yes: {
          type: "boolean",
          short: "y",
          description: "deploy without showing the preview and asking",
        },
      },
      notes: `  Sets conductor:revision in the stack's config and runs pulumi up. Services
  that set their own revision are left as they are.`,
    },
    run: {
      summary: "a one-off container of a service, on one of its hosts, as if logged in there",
      options: {
        ...stackOptions,
        service: serviceOption,
        host: { type: "string", description: "one of the service's hosts (default: the first)" },
        revision: {
          type: "string",
          value: "sha",
          description: "run this revision's image (default: the deployed one)",
        },
        interactive: {
          type: "boolean",
          short: "i",
          description: "interactive: a terminal, for consoles",
        },
      },
      positionals: [{ name: "command", variadic: true }],
      // `npx conductor run -s production --service app bin/rails runner -e production ...`
      optionsEndAtPositional: true,
      notes: `  Runs <command> in a one-off container of the service's image (the deployed
  revision by default) with its env, on one of its hosts (the first by default).
  Its exit code is the command's. A console:
    npx conductor run --stack production --service app -i -- bin/rails console`,
    },
  },
});

interface StackArgs {
  stack: string;
  configFile?: string;
}

export interface RunArgs extends StackArgs {
  command: "run";
  service: string;
  host?: string;
  revision?: string;
  interactive: boolean;
  argv: string[];
}

export interface StatusArgs extends StackArgs {
  command: "status";
  json: boolean;
}

export interface LogsArgs extends StackArgs {
  command: "logs";
  service: string;
  host?: string;
  query: LogQuery;
}

export interface ReleasesArgs extends StackArgs {
  command: "releases";
}

export interface RollbackArgs extends StackArgs {
  command: "rollback";
  to?: string;
  yes: boolean;
}

export type OperatorArgs = RunArgs | StatusArgs | LogsArgs | ReleasesArgs | RollbackArgs;

/** The arguments, or the usage asked for; throws UsageError (exit 2) for what it does not take. */
export function parseArgs(argv: readonly string[]): OperatorArgs | { help: string } {
  const parsed = parse(OPERATOR_PROGRAM, argv);
  if (parsed.command === "help") return { help: parsed.usage };
  const stack = { stack: parsed.options.stack, configFile: parsed.options["config-file"] };
  const usage = (problem: string) =>
    new UsageError(`${problem}\n${commandUsage(OPERATOR_PROGRAM, parsed.command)}`);
  switch (parsed.command) {
    case "status":
      return { command: "status", ...stack, json: parsed.options.json };
    case "logs": {
      const { service, host, follow, since, tail } = parsed.options;
      if (since !== undefined && parseSince(since) === undefined)
        throw usage(`--since: expected ${SINCE_RULE}, got ${JSON.stringify(since)}`);
      if (tail !== undefined && !/^\d+$/.test(tail))
        throw usage(`--tail: expected a whole number, got ${JSON.stringify(tail)}`);
      // All of a long-running service's log is rarely what is wanted: the end of it is.
      const lines =
        tail !== undefined ? Number(tail) : since === undefined ? DEFAULT_TAIL : undefined;
      return { command: "logs", ...stack, service, host, query: { follow, since, tail: lines } };
    }
    case "releases":
      return { command: "releases", ...stack };
    case "rollback": {
      const { to, yes } = parsed.options;
      if (to !== undefined && !REVISION.test(to))
        throw usage(`--to: expected ${REVISION_RULE}, got ${JSON.stringify(to)}`);
      return { command: "rollback", ...stack, to, yes };
    }
    case "run": {
      const { service, host, revision, interactive } = parsed.options;
      const { command } = parsed.args;
      if (command.length === 0 && !interactive) throw usage("a command is required");
      return { command: "run", ...stack, service, host, revision, interactive, argv: command };
    }
  }
}

/** `--tail` of `npx conductor logs` without --tail or --since. */
export const DEFAULT_TAIL = 100;

export function remoteArgv(id: string, args: RunArgs): string[] {
  return [
    CONDUCTOR_BIN,
    "run",
    "--id",
    id,
    ...(args.revision ? ["--revision", args.revision] : []),
    ...(args.interactive ? ["-i"] : []),
    "--",
    ...args.argv,
  ];
}

async function runOneOff(args: RunArgs): Promise<number> {
  const { fleet, privateKey } = readStack(args.stack, args.configFile);
  const service = findService(fleet, args.stack, args.service);
  const [host] = hostsOf(fleet, service, args.host ?? service.hosts[0]);
  const conn = connectionOf(host, privateKey);
  const [file, fileArgs] = hostCommand(conn, remoteArgv(service.id, args), {
    tty: args.interactive,
  });
  const child = spawn(file, fileArgs, { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if ("help" in args) {
    process.stderr.write(`${args.help}\n`);
    return 0;
  }
  switch (args.command) {
    case "run":
      return runOneOff(args);
    case "status":
      return status(args);
    case "logs":
      return logs(args);
    case "releases":
      return releases(args);
    case "rollback":
      return rollback(args);
  }
}

/** The command line entry: exits with the command's exit code (run: the remote command's). */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`conductor: ${process.env.DEBUG ? err.stack : err.message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
