// The `conductor` command installed on every host (README: "One-off tasks and
// consoles", "Supervision"). The deploy
// calls its subcommands with a JSON request on stdin; operators call `run`,
// `status`, `pause` and `resume` by hand.
import { containerDown, containerUp } from "./container";
import { nginxApply, nginxRemove } from "./nginx";
import { parseRunArgs } from "./cli";
import { cronInstall, cronRemove } from "./cron";
import { releaseApply, releaseRemove } from "./release";
import { runOneOff, UsageError } from "./run";
import { restartInBackground, startInBackground } from "./supervise/daemon";
import { supervise } from "./supervise/loop";
import {
  type AnswerOf,
  checkRequest,
  type HostCommand,
  isHostCommand,
  ProtocolError,
  type RequestOf,
} from "../protocol/requests";
import { collectStatus, formatStatus, pause, resume } from "./supervise/status";

export const VERSION = "0.1.0";

type Log = (line: string) => void;

/** The subcommands the deploy runs: a request of protocol/requests.ts in, its answer out. */
const requestHandlers: {
  [C in HostCommand]: (request: RequestOf<C>, log: Log) => Promise<AnswerOf<C> | void>;
} = {
  "container up": containerUp,
  "container down": containerDown,
  "nginx apply": nginxApply,
  "nginx remove": nginxRemove,
  "release apply": releaseApply,
  "release remove": releaseRemove,
  "cron install": cronInstall,
  "cron remove": cronRemove,
};

/** Validates the request before anything acts on it; the provider validates the answer. */
async function handleRequest<C extends HostCommand>(command: C, input: string, log: Log) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    throw new ProtocolError(`invalid request for conductor ${command}: not JSON`);
  }
  const handler = requestHandlers[command] as (r: RequestOf<C>, log: Log) => Promise<unknown>;
  return (await handler(checkRequest(command, parsed), log)) ?? {};
}

const USAGE = `usage: conductor <command>

  run --id <id> [--revision <sha>] [-i] [--lock] [--] <command...>
      a one-off container of a deployed service, removed afterwards
  status [--json]         each service: desired, running and healthy containers, supervision
  pause <id> | resume <id>  stop or start supervising a service
  supervise [--once]      keep deployed containers running and healthy (one pass with --once)
  supervise --background  start one in the background unless one runs (cron calls this)
  supervise --restart     replace the running one (the deploy calls this after an upgrade)

Commands the deploy runs (a JSON request on stdin):
  container up | container down | nginx apply | nginx remove | release apply | release remove
  cron install | cron remove
Other:
  version`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function superviseCommand(args: string[]): Promise<number> | number {
  const logLine = (line: string) =>
    process.stderr.write(`${new Date().toISOString()} conductor supervise: ${line}\n`);
  if (args.includes("--background")) return startInBackground(logLine);
  if (args.includes("--restart")) return restartInBackground(logLine);
  return supervise(args.includes("--once"), logLine);
}

async function printStatus(json: boolean): Promise<number> {
  const services = await collectStatus();
  process.stdout.write(json ? `${JSON.stringify(services, null, 2)}\n` : formatStatus(services));
  return 0;
}

const log = (line: string) => process.stderr.write(`conductor: ${line}\n`);

export async function main(argv: string[]): Promise<number> {
  const key = argv.slice(0, 2).join(" ");
  if (isHostCommand(key)) {
    const result = await handleRequest(key, await readStdin(), log);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  if (argv[0] === "run") return runOneOff(parseRunArgs(argv.slice(1)), log);
  if (argv[0] === "supervise") return superviseCommand(argv.slice(1));
  if (argv[0] === "status") return printStatus(argv.includes("--json"));
  if ((argv[0] === "pause" || argv[0] === "resume") && argv[1]) {
    process.stdout.write(`${argv[0] === "pause" ? pause(argv[1]) : resume(argv[1])}\n`);
    return 0;
  }
  if (argv[0] === "version") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return argv.length === 0 || argv[0] === "help" ? 0 : 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`conductor: ${process.env.DEBUG ? err.stack : err.message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
