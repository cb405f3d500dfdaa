// The `conductor` command installed on every host (README: "One-off tasks and
// consoles", "Supervision"). The deploy calls its subcommands with a JSON
// request on stdin; operators call `run`, `status`, `logs`, `pause` and `resume`
// by hand (`npx conductor` calls some of them too).
import { containerDown, containerUp } from "./container";
import { withSystemDirs } from "./exec";
import { imagePull } from "./image";
import { logsCommand } from "./logs";
import { imageList, statusReport } from "./report";
import { nginxApply, nginxRemove } from "./nginx";
import { predeployRun } from "./predeploy";
import { containerRead, cronRead, imageRead, nginxRead, releaseRead } from "./read";
import { UsageError as CommandLineError } from "../cli/commands";
import { parseCommandLine, type SuperviseMode } from "./cli";
import { cronInstall, cronRemove } from "./cron";
import { releaseApply, releaseRemove } from "./release";
import { runOneOff, UsageError } from "./run";
import { restartInBackground, startInBackground } from "./supervise/daemon";
import { supervise } from "./supervise/loop";
import { type Exit, serve } from "./serve";
import {
  type AnswerOf,
  checkRequest,
  type HostCommand,
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
  "image pull": imagePull,
  "container up": containerUp,
  "container down": containerDown,
  "nginx apply": nginxApply,
  "nginx remove": nginxRemove,
  "release apply": releaseApply,
  "release remove": releaseRemove,
  "cron install": cronInstall,
  "cron remove": cronRemove,
  "predeploy run": predeployRun,
  "status report": statusReport,
  "image list": imageList,
  "container read": containerRead,
  "nginx read": nginxRead,
  "cron read": cronRead,
  "release read": releaseRead,
  "image read": imageRead,
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function superviseCommand(mode: SuperviseMode): Promise<number> | number {
  const logLine = (line: string) =>
    process.stderr.write(`${new Date().toISOString()} conductor supervise: ${line}\n`);
  if (mode === "background") return startInBackground(logLine);
  if (mode === "restart") return restartInBackground(logLine);
  return supervise(mode === "once", logLine);
}

async function printStatus(json: boolean): Promise<number> {
  const services = await collectStatus();
  process.stdout.write(json ? `${JSON.stringify(services, null, 2)}\n` : formatStatus(services));
  return 0;
}

const log = (line: string) => process.stderr.write(`conductor: ${line}\n`);

/**
 * One request of `conductor serve`, as its own process would run it
 * (`conductor <argv>` with `input` on stdin): its exit code, its answer on
 * stdout, its log and error on stderr.
 */
export async function runCaptured(argv: string[], input: string): Promise<Exit> {
  let stderr = "";
  const capture = (line: string) => (stderr += `conductor: ${line}\n`);
  try {
    const command = parseCommandLine(argv);
    if (command.kind !== "request")
      throw new CommandLineError(
        `conductor serve runs the deploy's requests, not ${argv.join(" ")}`,
      );
    const result = await handleRequest(command.command, input, capture);
    return { code: 0, stdout: `${JSON.stringify(result)}\n`, stderr };
  } catch (err) {
    capture(process.env.DEBUG ? ((err as Error).stack ?? "") : (err as Error).message);
    return { code: exitCodeOf(err), stdout: "", stderr };
  }
}

/** Runs the command line (see host/cli.ts); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const command = parseCommandLine(argv);
  switch (command.kind) {
    case "help":
      process.stderr.write(`${command.usage}\n`);
      return 0;
    case "request": {
      const result = await handleRequest(command.command, await readStdin(), log);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    case "run":
      return runOneOff(command.options, log);
    case "serve":
      // A provider that went away mid-deploy: its answers have no reader (EPIPE).
      process.stdout.on("error", () => undefined);
      onCrash(process, (line) => process.stderr.write(line), process.exit);
      return serve(process.stdin, (line) => process.stdout.write(line), runCaptured);
    case "supervise":
      return superviseCommand(command.mode);
    case "status":
      return printStatus(command.json);
    case "logs":
      return logsCommand(command.options);
    case "pause":
    case "resume":
      process.stdout.write(
        `${command.kind === "pause" ? pause(command.id) : resume(command.id)}\n`,
      );
      return 0;
    case "version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
  }
}

/**
 * What `conductor serve` does with an error that nothing caught, written for a
 * process per request, where it ended one request; here every request in
 * flight shares the process. A rejection nobody handled is a promise nobody
 * awaited, so no request waits for it: logged, and serving goes on. A thrown
 * exception left some callback half done and its request perhaps never to
 * finish, and Node.js holds the process unsafe to go on with
 * (nodejs.org/api/process.html, "Warning: Using 'uncaughtException'
 * correctly"): serve exits, saying so, and the provider fails every request it
 * has not answered with that message. Neither log has the error's message,
 * which may quote a request (a secret in its input); the type and the stack's
 * frames say where.
 */
export function onCrash(
  proc: NodeJS.EventEmitter,
  writeError: (line: string) => void,
  exit: (code: number) => void,
): void {
  proc.on("unhandledRejection", (reason: unknown) =>
    writeError(`conductor: serve: a rejection nothing handled, serving on: ${whereOf(reason)}\n`),
  );
  proc.on("uncaughtException", (err: unknown) => {
    writeError(
      `conductor: serve: crashed on an exception nothing caught, the requests it was running unfinished; check the host (conductor status) and deploy again: ${whereOf(err)}\n`,
    );
    exit(1);
  });
}

/** An error's type and the frames of its stack, never its message. */
function whereOf(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const frames = (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l));
  return [err.constructor.name, ...frames].join("\n");
}

/** Usage errors, from the command line or a `run` of what is not deployed, exit 2. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof CommandLineError ? 2 : 1;
}

if (require.main === module) {
  // Started by cron (the supervisor's watchdog, a job's wrapper) it would not find nginx otherwise.
  process.env.PATH = withSystemDirs(process.env.PATH);
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`conductor: ${process.env.DEBUG ? err.stack : err.message}\n`);
      process.exit(exitCodeOf(err));
    },
  );
}
