// `npx conductor run`'s command line, and the `conductor run` it becomes on
// the host. Not proven here: reading the stack and the SSH session (e2e).
import { UsageError } from "../cli/commands";
import { parseCommandLine } from "../host/cli";
import { parseArgs, remoteArgv, type RunArgs } from "./main";

const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";

function args(...argv: string[]): RunArgs {
  const parsed = parseArgs(["run", ...argv]);
  if ("help" in parsed) throw new Error("parsed as help");
  return parsed;
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
      stack: "production",
      configFile: undefined,
      service: "web",
      host: undefined,
      revision: undefined,
      interactive: false,
      command: ["sh", "-c", "a b"],
    });
  });

  it("takes every option, -s and -i included", () => {
    const argv = ["-s", "staging", "--service", "web", "--host", "app-2", "--revision", SHA];
    expect(args(...argv, "--config-file", "/tmp/Pulumi.staging.yaml", "-i")).toStrictEqual({
      stack: "staging",
      configFile: "/tmp/Pulumi.staging.yaml",
      service: "web",
      host: "app-2",
      revision: SHA,
      interactive: true,
      command: [],
    });
  });

  it("keeps the command's own options its own", () => {
    expect(
      args("-s", "production", "--service", "web", "bin/rails", "runner", "-e", "production", "-i")
        .command,
    ).toStrictEqual(["bin/rails", "runner", "-e", "production", "-i"]);
  });

  it.each<[string[], string]>([
    [["run"], "--stack and --service are required"],
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
