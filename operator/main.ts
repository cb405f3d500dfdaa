// `npx conductor`: the operator's side. `run` picks a host of a service from
// the stack's config and runs `conductor run` there over SSH (with a terminal
// for -i), as if you had logged in; its exit code is the command's.
import { spawn } from "node:child_process";
import { commandUsage, defineProgram, parse, UsageError } from "../cli/commands";
import type { Fleet, Host } from "../config/model";
import type { Connection } from "../protocol/connection";
import { CONDUCTOR_BIN } from "../protocol/rules";
import { hostCommand } from "../provider/transport";
import { readStack } from "./stack";

export const OPERATOR_PROGRAM = defineProgram({
  name: "npx conductor",
  commands: {
    run: {
      summary: "a one-off container of a service, on one of its hosts, as if logged in there",
      options: {
        stack: { type: "string", short: "s", required: true, description: "the Pulumi stack" },
        service: {
          type: "string",
          required: true,
          value: "name",
          description: "the service, by its name in conductor:services",
        },
        host: { type: "string", description: "one of the service's hosts (default: the first)" },
        revision: {
          type: "string",
          value: "sha",
          description: "run this revision's image (default: the deployed one)",
        },
        "config-file": {
          type: "string",
          value: "Pulumi.stack.yaml",
          description: "the stack's config file, if not the default one",
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

export interface RunArgs {
  stack: string;
  configFile?: string;
  service: string;
  host?: string;
  revision?: string;
  interactive: boolean;
  command: string[];
}

/** `run`'s arguments, or the usage asked for; throws UsageError (exit 2) for what it does not take. */
export function parseArgs(argv: readonly string[]): RunArgs | { help: string } {
  const parsed = parse(OPERATOR_PROGRAM, argv);
  if (parsed.command === "help") return { help: parsed.usage };
  const { stack, service, host, revision, interactive } = parsed.options;
  const { command } = parsed.args;
  if (command.length === 0 && !interactive)
    throw new UsageError(`a command is required\n${commandUsage(OPERATOR_PROGRAM, "run")}`);
  return {
    stack,
    configFile: parsed.options["config-file"],
    service,
    host,
    revision,
    interactive,
    command,
  };
}

function pickHost(fleet: Fleet, args: RunArgs): { id: string; host: Host } {
  const service = fleet.services.find((s) => s.name === args.service);
  if (!service) {
    throw new UsageError(
      `no service ${args.service} in stack ${args.stack}; services: ${fleet.services.map((s) => s.name).join(", ")}`,
    );
  }
  const name = args.host ?? service.hosts[0];
  if (!service.hosts.includes(name)) {
    throw new UsageError(
      `${args.service} does not run on ${name}; its hosts: ${service.hosts.join(", ")}`,
    );
  }
  return { id: service.id, host: fleet.hosts.find((h) => h.name === name)! };
}

export function remoteArgv(id: string, args: RunArgs): string[] {
  return [
    CONDUCTOR_BIN,
    "run",
    "--id",
    id,
    ...(args.revision ? ["--revision", args.revision] : []),
    ...(args.interactive ? ["-i"] : []),
    "--",
    ...args.command,
  ];
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if ("help" in args) {
    process.stderr.write(`${args.help}\n`);
    return 0;
  }
  const { fleet, privateKey } = readStack(args.stack, args.configFile);
  const { id, host } = pickHost(fleet, args);
  const conn: Connection = {
    host: host.name,
    address: host.address,
    local: host.local,
    user: host.user,
    port: host.port,
    privateKey,
  };
  const [file, fileArgs] = hostCommand(conn, remoteArgv(id, args), { tty: args.interactive });
  const child = spawn(file, fileArgs, { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** The command line entry: exits with the remote command's exit code. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`conductor: ${process.env.DEBUG ? err.stack : err.message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
