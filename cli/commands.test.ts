// The command-line runner: parsing into typed values, every usage error, and
// the usage text, on a small program declared here.
import {
  commandUsage,
  defineProgram,
  type OptionValues,
  parse,
  programUsage,
  UsageError,
} from "./commands";

const PROGRAM = defineProgram({
  name: "tool",
  commands: {
    exec: {
      summary: "run a command somewhere",
      options: {
        id: { type: "string", required: true, value: "service id", description: "the service" },
        host: { type: "string", short: "H", description: "where (default: anywhere)" },
        env: { type: "string", multiple: true, value: "NAME", description: "pass NAME too" },
        interactive: { type: "boolean", short: "i", description: "with a terminal" },
        lock: { type: "boolean", description: "skip if running" },
      },
      positionals: [{ name: "command", variadic: true }],
      optionsEndAtPositional: true,
      notes: "  Example: tool exec --id web -- ls",
    },
    pause: { summary: "pause a service", positionals: [{ name: "id" }] },
    show: {
      summary: "show things",
      options: { json: { type: "boolean", description: "as JSON" } },
      positionals: [{ name: "what" }, { name: "more", optional: true }],
    },
    loop: {
      summary: "loop forever",
      options: {
        once: { type: "boolean", description: "one pass" },
        background: { type: "boolean", description: "in the background" },
        restart: { type: "boolean", description: "replace the running one" },
      },
      exclusive: [["once", "background", "restart"]],
    },
    "box up": { summary: "start a box", section: "Boxes" },
    "box down": { summary: "stop a box", section: "Boxes" },
  },
});

/** The message of the UsageError that parsing `argv` throws. */
function usageError(argv: string[]): string {
  try {
    parse(PROGRAM, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

/** Its first line, the problem; the rest is the usage. */
const problem = (argv: string[]) => usageError(argv).split("\n")[0];

describe("parse", () => {
  it("gives the command, its options (defaults included) and its positionals", () => {
    expect(parse(PROGRAM, ["exec", "--id", "web", "ls", "-la"])).toStrictEqual({
      command: "exec",
      options: { id: "web", host: undefined, env: [], interactive: false, lock: false },
      args: { command: ["ls", "-la"] },
    });
  });

  it("types the values from the declarations", () => {
    const options: OptionValues<(typeof PROGRAM)["commands"]["exec"]> = {
      id: "web",
      host: undefined,
      env: ["A"],
      interactive: true,
      lock: false,
    };
    expect(typeof options.id).toBe("string");
    const missing: OptionValues<(typeof PROGRAM)["commands"]["exec"]> = {
      ...options,
      // @ts-expect-error a required option is a string, never undefined
      id: undefined,
    };
    expect(missing.id).toBeUndefined();
  });

  it.each<[string, string[], object, object]>([
    [
      "long options, = values, short options and groups",
      ["exec", "--id=web", "-H", "app-1", "-i", "--lock", "true"],
      { id: "web", host: "app-1", env: [], interactive: true, lock: true },
      { command: ["true"] },
    ],
    [
      "a short option with its value attached, in a group",
      ["exec", "--id", "web", "-iHapp-1", "true"],
      { id: "web", host: "app-1", env: [], interactive: true, lock: false },
      { command: ["true"] },
    ],
    [
      "a repeated multiple option, in order",
      ["exec", "--id", "web", "--env", "B", "--env=A"],
      { id: "web", host: undefined, env: ["B", "A"], interactive: false, lock: false },
      { command: [] },
    ],
    [
      "`--` before the command",
      ["exec", "--id", "web", "--", "sh", "-c", "a b"],
      { id: "web", host: undefined, env: [], interactive: false, lock: false },
      { command: ["sh", "-c", "a b"] },
    ],
    [
      "the command's own options after the first positional",
      ["exec", "--id", "web", "bin/rails", "runner", "-e", "production", "--lock", "--"],
      { id: "web", host: undefined, env: [], interactive: false, lock: false },
      { command: ["bin/rails", "runner", "-e", "production", "--lock", "--"] },
    ],
    [
      "a `--` that is the command's, after the first positional",
      ["exec", "--id", "web", "--", "--", "x"],
      { id: "web", host: undefined, env: [], interactive: false, lock: false },
      { command: ["--", "x"] },
    ],
    [
      "a lone - as a value",
      ["exec", "--id", "-", "cat"],
      { id: "-", host: undefined, env: [], interactive: false, lock: false },
      { command: ["cat"] },
    ],
  ])("reads %s", (_, argv, options, args) => {
    expect(parse(PROGRAM, argv)).toStrictEqual({ command: "exec", options, args });
  });

  it("takes options between positionals where they do not end at the first", () => {
    expect(parse(PROGRAM, ["show", "a", "--json", "b"])).toStrictEqual({
      command: "show",
      options: { json: true },
      args: { what: "a", more: "b" },
    });
    expect(parse(PROGRAM, ["show", "a"])).toStrictEqual({
      command: "show",
      options: { json: false },
      args: { what: "a" },
    });
    expect(parse(PROGRAM, ["show", "--", "--json"])).toStrictEqual({
      command: "show",
      options: { json: false },
      args: { what: "--json" },
    });
  });

  it("finds commands of two words", () => {
    expect(parse(PROGRAM, ["box", "up"])).toStrictEqual({
      command: "box up",
      options: {},
      args: {},
    });
  });

  it("takes one of a group of exclusive options", () => {
    expect(parse(PROGRAM, ["loop", "--restart"])).toMatchObject({
      options: { once: false, background: false, restart: true },
    });
    expect(parse(PROGRAM, ["loop"])).toMatchObject({
      options: { once: false, background: false, restart: false },
    });
  });
});

describe("usage errors", () => {
  it.each<[string, string[], string]>([
    ["an unknown option", ["loop", "--onse"], "unknown option --onse"],
    ["an unknown short option", ["exec", "--id", "web", "-x", "true"], "unknown option -x"],
    ["an unknown option in a group", ["exec", "--id", "web", "-ix", "true"], "unknown option -x"],
    ["an option of another command", ["show", "a", "--lock"], "unknown option --lock"],
    ["a missing value", ["exec", "--id"], "--id needs a value"],
    ["an option where the value should be", ["exec", "--id", "--lock", "x"], "--id needs a value"],
    ["an empty value for a required option", ["exec", "--id=", "true"], "--id needs a value"],
    ["a missing short option's value", ["exec", "--id", "web", "-H"], "-H needs a value"],
    ["a value for a boolean", ["show", "a", "--json=yes"], "--json takes no value"],
    ["a single option given twice", ["exec", "--id", "a", "--id", "b"], "--id is given twice"],
    ["a missing required option", ["exec", "ls"], "--id is required"],
    [
      "exclusive options together",
      ["loop", "--once", "--restart", "--background"],
      "--once, --background and --restart cannot be used together",
    ],
    ["a missing positional", ["pause"], "missing <id>"],
    ["an extra positional", ["pause", "a", "b"], 'unexpected argument "b"'],
    ["a positional for a command without", ["box", "up", "x"], 'unexpected argument "x"'],
    ["an option for a command without", ["box", "up", "--force"], "unknown option --force"],
  ])("%s", (_, argv, message) => {
    expect(problem(argv)).toBe(message);
  });

  it("shows the usage of that command", () => {
    expect(usageError(["pause"])).toBe(`missing <id>\n${commandUsage(PROGRAM, "pause")}`);
  });

  it.each<[string[], string]>([
    [["nope"], "unknown command nope"],
    [["box", "sideways"], "unknown command box sideways"],
    [["box"], "unknown command box"],
    [["--version"], "unknown command --version"],
    [["help", "nope"], "no command nope"],
  ])("refuses %j with the program's usage", (argv, message) => {
    expect(usageError(argv)).toBe(`${message}\n${programUsage(PROGRAM)}`);
  });
});

describe("help", () => {
  it.each([[[]], [["help"]]])("%j gives the program's usage", (argv) => {
    expect(parse(PROGRAM, argv)).toStrictEqual({ command: "help", usage: programUsage(PROGRAM) });
  });

  it.each([
    [["help", "exec"], "exec"],
    [["exec", "--help"], "exec"],
    [["exec", "--id", "x", "--help"], "exec"],
    [["help", "box", "up"], "box up"],
    [["box", "up", "--help"], "box up"],
  ])("%j gives the usage of %s", (argv, name) => {
    expect(parse(PROGRAM, argv)).toStrictEqual({
      command: "help",
      usage: commandUsage(PROGRAM, name),
    });
  });

  it("leaves --help after the options' end to the command", () => {
    expect(parse(PROGRAM, ["exec", "--id", "x", "ls", "--help"])).toMatchObject({
      args: { command: ["ls", "--help"] },
    });
  });
});

describe("usage text", () => {
  // Booleans by their short name where they have one, options with values by the long one.
  it("of a command: synopsis, summary, options and notes", () => {
    expect(commandUsage(PROGRAM, "exec")).toBe(
      `usage: tool exec --id <service id> [--host <host>] [--env <NAME>]... [-i] [--lock] [--]
                 [<command>...]
  run a command somewhere

  --id <service id>  the service
  -H, --host <host>  where (default: anywhere)
  --env <NAME>       pass NAME too
  -i, --interactive  with a terminal
  --lock             skip if running

  Example: tool exec --id web -- ls`,
    );
  });

  it("of commands with positionals, exclusive options, or nothing", () => {
    expect(commandUsage(PROGRAM, "show")).toBe(
      `usage: tool show [--json] <what> [<more>]
  show things

  --json  as JSON`,
    );
    expect(commandUsage(PROGRAM, "loop")).toBe(
      `usage: tool loop [--once | --background | --restart]
  loop forever

  --once        one pass
  --background  in the background
  --restart     replace the running one`,
    );
    expect(commandUsage(PROGRAM, "box up")).toBe(`usage: tool box up\n  start a box`);
  });

  it("of the program: every command by section", () => {
    expect(programUsage(PROGRAM)).toBe(
      `usage: tool <command> ...

  exec --id <service id> [--host <host>] [--env <NAME>]... [-i] [--lock] [--] [<command>...]
      run a command somewhere
  pause <id>
      pause a service
  show [--json] <what> [<more>]
      show things
  loop [--once | --background | --restart]
      loop forever

Boxes:
  box up
      start a box
  box down
      stop a box

tool help <command>, or tool <command> --help: that command's options`,
    );
  });

  it("wraps a long synopsis under its first option", () => {
    const wide = defineProgram({
      name: "npx tool",
      commands: {
        go: {
          summary: "go",
          options: Object.fromEntries(
            ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"].map((n) => [
              n,
              { type: "string", value: `${n}-value`, description: n },
            ]),
          ),
        },
      },
    });
    const [first, second] = commandUsage(wide, "go").split("\n");
    expect(first).toBe(
      "usage: npx tool go [--alpha <alpha-value>] [--bravo <bravo-value>] [--charlie <charlie-value>]",
    );
    expect(second).toBe(
      "                   [--delta <delta-value>] [--echo <echo-value>] [--foxtrot <foxtrot-value>]",
    );
  });
});

describe("defineProgram", () => {
  it.each<[string, object, string]>([
    ["a command named help", { help: { summary: "" } }, "tool help: help is built in"],
    [
      "two options sharing a short name",
      {
        x: {
          summary: "",
          options: {
            a: { type: "boolean", short: "a", description: "" },
            b: { type: "boolean", short: "a", description: "" },
          },
        },
      },
      "tool x: two options share a short name",
    ],
    [
      "a required boolean",
      { x: { summary: "", options: { a: { type: "boolean", required: true, description: "" } } } },
      "tool x: --a: a boolean is never required nor multiple",
    ],
    [
      "an exclusive group naming a string option",
      {
        x: {
          summary: "",
          options: { a: { type: "string", description: "" } },
          exclusive: [["a"]],
        },
      },
      "tool x: exclusive: --a is not a boolean option",
    ],
    [
      "a variadic positional before another",
      { x: { summary: "", positionals: [{ name: "a", variadic: true }, { name: "b" }] } },
      "tool x: only the last positional may be variadic",
    ],
    [
      "a required positional after an optional one",
      { x: { summary: "", positionals: [{ name: "a", optional: true }, { name: "b" }] } },
      "tool x: a required positional follows an optional one",
    ],
  ])("refuses %s", (_, commands, message) => {
    expect(() => defineProgram({ name: "tool", commands } as never)).toThrow(message);
  });
});
