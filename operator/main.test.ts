// `npx conductor`'s command lines, and the host command lines they become.
// Not proven here: reading the stack and the SSH sessions (test/e2e, test/fleet).
import { UsageError } from "../cli/commands";
import { parseCommandLine } from "../host/cli";
import { logsArgv } from "../protocol/logs";
import { DEFAULT_TAIL, type OperatorArgs, parseArgs, remoteArgv, type RunArgs } from "./main";

const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";

function parsed(argv: string[]): OperatorArgs {
  const result = parseArgs(argv);
  if ("help" in result) throw new Error("parsed as help");
  return result;
}

function args(...argv: string[]): RunArgs {
  return parsed(["run", ...argv]) as RunArgs;
}

/** The first line of the usage error `argv` gives (the rest is the usage). */
function problem(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message.split("\n")[0];
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

describe("npx conductor run", () => {
  it("takes the stack, the service and the command", () => {
    expect(
      args("--stack", "production", "--service", "web", "--", "sh", "-c", "a b"),
    ).toStrictEqual({
      command: "run",
      stack: "production",
      configFile: undefined,
      service: "web",
      host: undefined,
      revision: undefined,
      interactive: false,
      argv: ["sh", "-c", "a b"],
    });
  });

  it("takes every option, -s and -i included", () => {
    const argv = ["-s", "staging", "--service", "web", "--host", "app-2", "--revision", SHA];
    expect(args(...argv, "--config-file", "/tmp/Pulumi.staging.yaml", "-i")).toStrictEqual({
      command: "run",
      stack: "staging",
      configFile: "/tmp/Pulumi.staging.yaml",
      service: "web",
      host: "app-2",
      revision: SHA,
      interactive: true,
      argv: [],
    });
  });

  it("keeps the command's own options its own", () => {
    expect(
      args("-s", "production", "--service", "web", "bin/rails", "runner", "-e", "production", "-i")
        .argv,
    ).toStrictEqual(["bin/rails", "runner", "-e", "production", "-i"]);
  });

  it.each<[string[], string]>([
    [["run"], "--stack and --service are required"],
    [["status"], "--stack is required"],
    [["status", "-s", "p", "--jsno"], "unknown option --jsno"],
    [["logs", "-s", "p"], "--service is required"],
    [
      ["logs", "-s", "p", "--service", "web", "--since", "1 hour"],
      '--since: expected a duration such as "30s", "10m", "2h" or "1d", got "1 hour"',
    ],
    [
      ["logs", "-s", "p", "--service", "web", "--tail", "ten"],
      '--tail: expected a whole number, got "ten"',
    ],
    [["logs", "-s", "p", "--service", "web", "extra"], 'unexpected argument "extra"'],
    [["releases", "-s", "p", "--json"], "unknown option --json"],
    [
      ["rollback", "-s", "p", "--to", "HEAD~1"],
      '--to: expected a git commit SHA of 7 to 40 lowercase hex digits, got "HEAD~1"',
    ],
    [["rollback", "-s", "p", "--yes", "now"], 'unexpected argument "now"'],
    [["run", "--service", "web", "true"], "--stack is required"],
    [["run", "--stack", "production", "true"], "--service is required"],
    [["run", "--stack", "production", "--service", "web"], "a command is required"],
    [
      ["run", "--stack", "production", "--service", "web", "--hots", "a", "true"],
      "unknown option --hots",
    ],
    [["run", "--stack", "--service", "web", "true"], "--stack needs a value"],
    [["ssh", "--stack", "production"], "unknown command ssh"],
  ])("refuses %j", (argv, message) => {
    expect(problem(argv)).toBe(message);
  });

  it.each([[[]], [["help"]], [["help", "run"]], [["run", "--help"]]])(
    "gives the usage for %j",
    (argv) => {
      expect(parseArgs(argv)).toStrictEqual({
        help: expect.stringMatching(/^usage: npx conductor /),
      });
    },
  );
});

describe("npx conductor status, logs, releases, rollback", () => {
  it.each<[string[], OperatorArgs]>([
    [["status", "-s", "p"], { command: "status", stack: "p", configFile: undefined, json: false }],
    [
      ["status", "--stack", "p", "--json", "--config-file", "/tmp/P.yaml"],
      { command: "status", stack: "p", configFile: "/tmp/P.yaml", json: true },
    ],
    [
      ["logs", "-s", "p", "--service", "web"],
      {
        command: "logs",
        stack: "p",
        configFile: undefined,
        service: "web",
        host: undefined,
        query: { follow: false, since: undefined, tail: DEFAULT_TAIL },
      },
    ],
    [
      ["logs", "-s", "p", "--service", "web", "-f", "--since", "10m", "--host", "h2"],
      {
        command: "logs",
        stack: "p",
        configFile: undefined,
        service: "web",
        host: "h2",
        query: { follow: true, since: "10m", tail: undefined },
      },
    ],
    [
      ["logs", "-s", "p", "--service", "web", "--tail", "0", "--since", "1h"],
      {
        command: "logs",
        stack: "p",
        configFile: undefined,
        service: "web",
        host: undefined,
        query: { follow: false, since: "1h", tail: 0 },
      },
    ],
    [["releases", "-s", "p"], { command: "releases", stack: "p", configFile: undefined }],
    [
      ["rollback", "-s", "p"],
      { command: "rollback", stack: "p", configFile: undefined, to: undefined, yes: false },
    ],
    [
      ["rollback", "-s", "p", "--to", SHA, "-y"],
      { command: "rollback", stack: "p", configFile: undefined, to: SHA, yes: true },
    ],
  ])("%j", (argv, expected) => {
    expect(parsed(argv)).toStrictEqual(expected);
  });

  // The host reads back what the operator asks for.
  it("gives the host's parser the logs query it was given", () => {
    const logs = parsed([
      "logs",
      "-s",
      "p",
      "--service",
      "web",
      "-f",
      "--since",
      "2h",
      "--tail",
      "7",
    ]);
    if (logs.command !== "logs") throw new Error(logs.command);
    expect(parseCommandLine(logsArgv("shop_web_p", logs.query).slice(1))).toStrictEqual({
      kind: "logs",
      options: { id: "shop_web_p", follow: true, since: "2h", tail: 7, json: true },
    });
  });

  it("lists every command in its usage", () => {
    const usage = (parseArgs([]) as { help: string }).help.split("\n");
    for (const line of [
      "  status --stack <stack> [--config-file <Pulumi.stack.yaml>] [--json]",
      "  logs --stack <stack> [--config-file <Pulumi.stack.yaml>] --service <name> [-f]",
      "         [--since <duration>] [--tail <n>] [--host <host>]",
      "  releases --stack <stack> [--config-file <Pulumi.stack.yaml>]",
      "  rollback --stack <stack> [--config-file <Pulumi.stack.yaml>] [--to <sha>] [-y]",
    ])
      expect(usage).toContain(line);
  });
});

describe("remoteArgv", () => {
  it("runs conductor run on the host, the command after --", () => {
    expect(
      remoteArgv("shop_web_production", args("-s", "p", "--service", "web", "ls", "-la")),
    ).toStrictEqual([
      "/usr/local/bin/conductor",
      "run",
      "--id",
      "shop_web_production",
      "--",
      "ls",
      "-la",
    ]);
  });

  it("passes the revision and -i on", () => {
    const run = args("-s", "p", "--service", "web", "--revision", SHA, "-i", "--", "sh");
    expect(remoteArgv("shop_web_production", run)).toStrictEqual([
      "/usr/local/bin/conductor",
      "run",
      "--id",
      "shop_web_production",
      "--revision",
      SHA,
      "-i",
      "--",
      "sh",
    ]);
  });

  // Whatever the operator's command, the host reads back the same one.
  it("gives the host's parser the same command and options", () => {
    const run = args("-s", "p", "--service", "web", "--revision", SHA, "-i", "--", "--lock", "-e");
    expect(parseCommandLine(remoteArgv("shop_web_production", run).slice(1))).toStrictEqual({
      kind: "run",
      options: {
        id: "shop_web_production",
        revision: SHA,
        interactive: true,
        lock: false,
        envNames: [],
        command: ["--lock", "-e"],
      },
    });
  });
});
