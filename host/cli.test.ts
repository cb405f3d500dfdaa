// The command lines `conductor` takes on a host, parsed without running
// anything: what operators and cron type, and what the deploy runs.
import { UsageError } from "../cli/commands";
import { HOST_COMMANDS } from "../protocol/requests";
import { type HostCommandLine, parseCommandLine } from "./cli";

const ID = "shop_web_production";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";

/** The run options of `conductor run <args>`. */
function run(...args: string[]) {
  const parsed = parseCommandLine(["run", ...args]);
  if (parsed.kind !== "run") throw new Error(`parsed as ${parsed.kind}`);
  return parsed.options;
}

/** The first line of the usage error `argv` gives (the rest is the usage). */
function problem(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message.split("\n")[0];
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

describe("conductor run", () => {
  it("takes the id, the command and defaults for the rest", () => {
    expect(run("--id", ID, "true")).toStrictEqual({
      id: ID,
      revision: undefined,
      interactive: false,
      lock: false,
      envNames: [],
      command: ["true"],
    });
  });

  it("ends options at --", () => {
    expect(run("--id", ID, "--", "sh", "-c", "a b").command).toStrictEqual(["sh", "-c", "a b"]);
  });

  it("keeps the command's own options its own", () => {
    expect(run("--id", ID, "bin/rails", "runner", "-e", "production").command).toStrictEqual([
      "bin/rails",
      "runner",
      "-e",
      "production",
    ]);
    expect(run("--id", ID, "sh", "-c", "echo $0 $1", "--lock", "-i")).toMatchObject({
      lock: false,
      interactive: false,
      command: ["sh", "-c", "echo $0 $1", "--lock", "-i"],
    });
  });

  // What host/crontab.ts writes into /etc/cron.d for each job.
  it("reads a cron job's line", () => {
    expect(
      run(
        "--id",
        ID,
        "--revision",
        SHA,
        "--lock",
        "--env",
        "MAILTO",
        "--env",
        "TZ",
        "--",
        "/bin/sh",
        "-c",
        "rake x",
      ),
    ).toStrictEqual({
      id: ID,
      revision: SHA,
      interactive: false,
      lock: true,
      envNames: ["MAILTO", "TZ"],
      command: ["/bin/sh", "-c", "rake x"],
    });
  });

  it("takes -i or --interactive for a terminal, and no command for the service's own", () => {
    expect(run("--id", ID, "-i")).toMatchObject({ interactive: true, command: [] });
    expect(run("--interactive", "--id", ID, "sh")).toMatchObject({ interactive: true });
  });

  it.each<[string[], string]>([
    [["true"], "--id is required"],
    [["--id"], "--id needs a value"],
    [["--id", ID, "--lokc", "true"], "unknown option --lokc"],
    [
      ["--id", ID, "--revision", "main", "true"],
      `--revision: expected a git commit SHA of 7 to 40 lowercase hex digits, got "main"`,
    ],
  ])("refuses %j", (args, message) => {
    expect(problem(["run", ...args])).toBe(message);
  });
});

describe("conductor supervise", () => {
  it.each<[string[], string]>([
    [[], "loop"],
    [["--once"], "once"],
    [["--background"], "background"],
    [["--restart"], "restart"],
  ])("%j runs the supervisor as %s", (args, mode) => {
    expect(parseCommandLine(["supervise", ...args])).toStrictEqual({ kind: "supervise", mode });
  });

  it.each<[string[], string]>([
    [["--onse"], "unknown option --onse"],
    [["--once", "--background"], "--once and --background cannot be used together"],
    [["once"], 'unexpected argument "once"'],
  ])("refuses %j", (args, message) => {
    expect(problem(["supervise", ...args])).toBe(message);
  });
});

describe("the other commands operators type", () => {
  it.each<[string[], HostCommandLine]>([
    [["status"], { kind: "status", json: false }],
    [["status", "--json"], { kind: "status", json: true }],
    [
      ["logs", "--id", ID],
      {
        kind: "logs",
        options: { id: ID, follow: false, since: undefined, tail: undefined, json: false },
      },
    ],
    [
      ["logs", "--id", ID, "-f", "--since", "10m", "--tail", "20", "--json"],
      { kind: "logs", options: { id: ID, follow: true, since: "10m", tail: 20, json: true } },
    ],
    [["pause", ID], { kind: "pause", id: ID }],
    [["resume", ID], { kind: "resume", id: ID }],
    [["version"], { kind: "version" }],
  ])("%j", (argv, expected) => {
    expect(parseCommandLine(argv)).toStrictEqual(expected);
  });

  it.each<[string[], string]>([
    [["pause"], "missing <id>"],
    [["resume", ID, "again"], 'unexpected argument "again"'],
    [["status", "--jsno"], "unknown option --jsno"],
    [["logs"], "--id is required"],
    [
      ["logs", "--id", ID, "--since", "yesterday"],
      '--since: expected a duration such as "30s", "10m", "2h" or "1d", got "yesterday"',
    ],
    [["logs", "--id", ID, "--tail", "-5"], "--tail needs a value"],
    [["logs", "--id", ID, "--tail", "all"], '--tail: expected a whole number, got "all"'],
    [["version", "--short"], "unknown option --short"],
    [["stauts"], "unknown command stauts"],
  ])("refuses %j", (argv, message) => {
    expect(problem(argv)).toBe(message);
  });
});

describe("the commands the deploy runs", () => {
  it.each(Object.keys(HOST_COMMANDS))("%s takes its request on stdin", (command) => {
    expect(parseCommandLine(command.split(" "))).toStrictEqual({ kind: "request", command });
  });

  it("take no options nor arguments", () => {
    expect(problem(["container", "up", "--force"])).toBe("unknown option --force");
    expect(problem(["nginx", "apply", "x"])).toBe('unexpected argument "x"');
    expect(problem(["nginx", "reload"])).toBe("unknown command nginx reload");
  });
});

describe("help", () => {
  it.each([[[]], [["help"]]])("%j lists every command", (argv) => {
    const parsed = parseCommandLine(argv);
    if (parsed.kind !== "help") throw new Error(`parsed as ${parsed.kind}`);
    for (const line of [
      "usage: conductor <command> ...",
      "  run --id <service id> [--revision <sha>] [-i] [--lock] [--env <NAME>]... [--] [<command>...]",
      "  status [--json]",
      "  logs --id <service id> [-f] [--since <duration>] [--tail <n>] [--json]",
      "Commands npx conductor runs (a JSON request on stdin):",
      "  pause <id>",
      "  resume <id>",
      "  supervise [--once | --background | --restart]",
      "Commands the deploy runs (a JSON request on stdin):",
      ...Object.keys(HOST_COMMANDS).map((c) => `  ${c}`),
      "  version",
    ])
      expect(parsed.usage.split("\n")).toContain(line);
  });

  it("gives a command's options", () => {
    expect(parseCommandLine(["help", "run"])).toStrictEqual({
      kind: "help",
      usage: `usage: conductor run --id <service id> [--revision <sha>] [-i] [--lock] [--env <NAME>]... [--]
                     [<command>...]
  a one-off container of a deployed service, removed afterwards

  --id <service id>  the deployed service (conductor status lists them)
  --revision <sha>   run this revision's image (default: the deployed one)
  -i, --interactive  interactive: a terminal, for consoles (sh, bin/rails console)
  --lock             do nothing if this command of this service is still running
  --env <NAME>       also pass NAME, from this environment (cron jobs use it for the crontab's env lines)

  Without a command it runs what the service's containers run.`,
    });
  });
});
