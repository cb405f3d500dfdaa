// The command lines of `conductor` on a host, declared once (cli/commands.ts):
// what operators and cron type, and what the deploy runs. parseCommandLine
// turns one into a typed command and runs nothing, so it is tested alone.
import { defineProgram, parse, UsageError } from "../cli/commands";
import type { HostCommand } from "../protocol/requests";
import { parseSince, SINCE_RULE } from "../protocol/logs";
import { REVISION, REVISION_RULE } from "../protocol/rules";
import type { LogsOptions } from "./logs";
import type { RunOptions } from "./run";

/** The subcommands the deploy runs: a JSON request on stdin, no options. */
const DEPLOY = "Commands the deploy runs (a JSON request on stdin)";
const READ = "Commands npx conductor runs (a JSON request on stdin)";
const REFRESH = "Commands pulumi refresh runs (a JSON request on stdin; they change nothing)";
const deployCommands = {
  "image pull": {
    summary: "pull a revision's image with its registry's credentials, unless present",
    section: DEPLOY,
  },
  "container up": { summary: "start a container and wait until it is healthy", section: DEPLOY },
  "container down": { summary: "stop and remove a container", section: DEPLOY },
  "nginx apply": { summary: "write, check and load a service's nginx site", section: DEPLOY },
  "nginx remove": { summary: "remove a service's nginx site", section: DEPLOY },
  "release apply": {
    summary: "record a service's release and stop its other containers",
    section: DEPLOY,
  },
  "release remove": { summary: "remove a service's release record", section: DEPLOY },
  "cron install": { summary: "install a service's cron file from generate-cron", section: DEPLOY },
  "cron remove": { summary: "remove a service's cron file", section: DEPLOY },
  "predeploy run": {
    summary: "run a service's predeploy command in its new revision",
    section: DEPLOY,
  },
  "status report": { summary: "every service's status, for npx conductor status", section: READ },
  "image list": { summary: "the tags of an image here, for npx conductor releases", section: READ },
  "container read": {
    summary: "a deployed container's state, for pulumi refresh",
    section: REFRESH,
  },
  "nginx read": {
    summary: "a service's nginx site as it is, for pulumi refresh",
    section: REFRESH,
  },
  "cron read": {
    summary: "the hash of a service's cron file, for pulumi refresh",
    section: REFRESH,
  },
  "release read": { summary: "a service's release record, for pulumi refresh", section: REFRESH },
  "image read": {
    summary: "whether a revision's image is here, for pulumi refresh",
    section: REFRESH,
  },
} as const satisfies Record<HostCommand, { summary: string; section: string }>;

export const HOST_PROGRAM = defineProgram({
  name: "conductor",
  commands: {
    run: {
      summary: "a one-off container of a deployed service, removed afterwards",
      options: {
        id: {
          type: "string",
          required: true,
          value: "service id",
          description: "the deployed service (conductor status lists them)",
        },
        revision: {
          type: "string",
          value: "sha",
          description: "run this revision's image (default: the deployed one)",
        },
        interactive: {
          type: "boolean",
          short: "i",
          description: "interactive: a terminal, for consoles (sh, bin/rails console)",
        },
        lock: {
          type: "boolean",
          description: "do nothing if this command of this service is still running",
        },
        env: {
          type: "string",
          multiple: true,
          value: "NAME",
          description:
            "also pass NAME, from this environment (cron jobs use it for the crontab's env lines)",
        },
      },
      positionals: [{ name: "command", variadic: true }],
      // `conductor run --id x bin/rails runner -e production`: -e is the command's.
      optionsEndAtPositional: true,
      notes: "  Without a command it runs what the service's containers run.",
    },
    status: {
      summary: "each service: desired, running and healthy containers, supervision",
      options: { json: { type: "boolean", description: "as JSON" } },
    },
    logs: {
      summary: "a service's container logs, each line with its replica slot and time",
      options: {
        id: { type: "string", required: true, value: "service id", description: "the service" },
        follow: {
          type: "boolean",
          short: "f",
          description: "keep following, containers that start later too, until input ends",
        },
        since: {
          type: "string",
          value: "duration",
          description: "lines of this last while only, e.g. 10m",
        },
        tail: { type: "string", value: "n", description: "the last n lines of each container" },
        json: { type: "boolean", description: "one JSON event per line (npx conductor logs)" },
      },
    },
    pause: {
      summary: "stop supervising a service",
      positionals: [{ name: "id" }],
    },
    resume: {
      summary: "supervise a service again",
      positionals: [{ name: "id" }],
    },
    supervise: {
      summary: "keep deployed containers running and healthy",
      options: {
        once: { type: "boolean", description: "one pass, then exit" },
        background: {
          type: "boolean",
          description: "start one in the background unless one runs (cron calls this)",
        },
        restart: {
          type: "boolean",
          description: "replace the running one (the deploy calls this after an upgrade)",
        },
      },
      exclusive: [["once", "background", "restart"]],
    },
    ...deployCommands,
    serve: {
      summary: "run many of the deploy's requests at once, one JSON line each on stdin",
      section: DEPLOY,
    },
    version: { summary: "the version of this conductor", section: "Other" },
  },
});

/** How `conductor supervise` runs: the endless loop, one pass, or starting one in the background. */
export type SuperviseMode = "loop" | "once" | "background" | "restart";

/** What a command line asks for. */
export type HostCommandLine =
  | { kind: "help"; usage: string }
  | { kind: "request"; command: HostCommand }
  | { kind: "run"; options: RunOptions }
  | { kind: "status"; json: boolean }
  | { kind: "logs"; options: LogsOptions }
  | { kind: "pause" | "resume"; id: string }
  | { kind: "supervise"; mode: SuperviseMode }
  | { kind: "serve" }
  | { kind: "version" };

/** Parses the arguments of `conductor`; throws UsageError (exit 2) for what it does not take. */
export function parseCommandLine(argv: readonly string[]): HostCommandLine {
  const parsed = parse(HOST_PROGRAM, argv);
  switch (parsed.command) {
    case "help":
      return { kind: "help", usage: parsed.usage };
    case "run": {
      const { id, revision, interactive, lock, env } = parsed.options;
      if (revision !== undefined && !REVISION.test(revision))
        throw new UsageError(
          `--revision: expected ${REVISION_RULE}, got ${JSON.stringify(revision)}`,
        );
      // --env NAME: pass NAME from this process's environment (cron's env lines).
      const options = { id, revision, interactive, lock, envNames: env };
      return { kind: "run", options: { ...options, command: parsed.args.command } };
    }
    case "status":
      return { kind: "status", json: parsed.options.json };
    case "logs":
      return { kind: "logs", options: logsOptions(parsed.options) };
    case "pause":
    case "resume":
      return { kind: parsed.command, id: parsed.args.id };
    case "supervise": {
      // At most one of them (exclusive above).
      const flag = (["once", "background", "restart"] as const).find((m) => parsed.options[m]);
      return { kind: "supervise", mode: flag ?? "loop" };
    }
    case "version":
      return { kind: "version" };
    case "serve":
      return { kind: "serve" };
    default:
      return { kind: "request", command: parsed.command };
  }
}

function logsOptions(o: {
  id: string;
  follow: boolean;
  since?: string;
  tail?: string;
  json: boolean;
}): LogsOptions {
  if (o.since !== undefined && parseSince(o.since) === undefined)
    throw new UsageError(`--since: expected ${SINCE_RULE}, got ${JSON.stringify(o.since)}`);
  if (o.tail !== undefined && !/^\d+$/.test(o.tail))
    throw new UsageError(`--tail: expected a whole number, got ${JSON.stringify(o.tail)}`);
  const { id, follow, since, json } = o;
  return { id, follow, since, tail: o.tail === undefined ? undefined : Number(o.tail), json };
}
