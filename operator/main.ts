// `npx conductor`: the operator's side. `run` picks a host of a service from
// the stack's config and runs `conductor run` there over SSH (with a terminal
// for -i), as if you had logged in; its exit code is the command's.
import { spawn } from "node:child_process";
import minimist from "minimist";
import type { Fleet, Host } from "../config/model";
import type { Connection } from "../protocol/connection";
import { CONDUCTOR_BIN } from "../protocol/rules";
import { hostCommand } from "../provider/transport";
import { readStack } from "./stack";

const USAGE = `usage: npx conductor run --stack <stack> --service <name> [--host <host>] [--revision <sha>]
                       [--config-file <Pulumi.stack.yaml>] [-i] [--] <command...>
  Runs <command> in a one-off container of the service's image (the deployed
  revision by default) with its env, on one of its hosts (the first by default).
  -i gives a terminal, for consoles:  npx conductor run --stack production --service app -i -- bin/rails console`;

class UsageError extends Error {}

interface RunArgs {
  stack: string;
  configFile?: string;
  service: string;
  host?: string;
  revision?: string;
  interactive: boolean;
  command: string[];
}

export function parseArgs(argv: string[]): RunArgs {
  if (argv[0] !== "run") throw new UsageError(USAGE);
  const a = minimist(argv.slice(1), {
    string: ["stack", "service", "host", "revision", "config-file"],
    boolean: ["interactive"],
    alias: { i: "interactive", s: "stack" },
    stopEarly: true,
    "--": true,
  });
  if (!a.stack || !a.service) throw new UsageError(`--stack and --service are required\n${USAGE}`);
  const command = [...a._.map(String), ...(a["--"] ?? [])];
  if (command.length === 0 && !a.interactive)
    throw new UsageError(`a command is required\n${USAGE}`);
  return {
    stack: a.stack,
    configFile: a["config-file"],
    service: a.service,
    host: a.host,
    revision: a.revision,
    interactive: a.interactive,
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
