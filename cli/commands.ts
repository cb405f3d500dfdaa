// Command lines for `conductor` on the hosts (host/) and `npx conductor` on
// the operator's machine (operator/): each program declares its commands once
// (options, positionals, summaries), and parsing and usage text both come from
// those declarations.
//
// Strict: an unknown option, an option without its value (or with one it does
// not take), a missing required option, options that exclude each other and
// a missing or extra positional are usage errors, reported with the usage of
// that command. node:util parseArgs splits the words (long and short options,
// `--name=value`, groups such as `-il`, `--`); the checks are ours, on its
// tokens, so that options can end at the first positional (`conductor run
// --id x bin/rails runner -e production`: `-e` is the command's) and the
// messages name what was typed. Needs Node.js 18.7 (parseArgs tokens).
import { parseArgs } from "node:util";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** One letter: `-i` for `--interactive`. */
  readonly short?: string;
  readonly description: string;
  /** A string option that must be given. */
  readonly required?: boolean;
  /** A string option that may be given more than once: its values in order. */
  readonly multiple?: boolean;
  /** The value's name in usage (`--revision <sha>`); by default the option's name. */
  readonly value?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly optional?: boolean;
  /** Takes every remaining word (the last positional only). */
  readonly variadic?: boolean;
}

export interface CommandSpec {
  /** One line for the usage text. */
  readonly summary: string;
  /** Options by long name (`config-file` for `--config-file`). */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  /**
   * Options end at the first positional, as at `--`: for commands that run
   * another command, whose own options must stay its own.
   */
  readonly optionsEndAtPositional?: boolean;
  /** Groups of boolean options of which at most one may be given. */
  readonly exclusive?: readonly (readonly string[])[];
  /** A heading the program's usage lists this command under; none: the first group. */
  readonly section?: string;
  /** Text after the options in this command's usage, e.g. an example. */
  readonly notes?: string;
}

export interface ProgramSpec {
  /** As typed: `conductor`, `npx conductor`. */
  readonly name: string;
  /** By name: words separated by one space (`container up`); `help` is built in. */
  readonly commands: Readonly<Record<string, CommandSpec>>;
}

type OptionValue<O extends OptionSpec> = O extends { type: "boolean" }
  ? boolean
  : O extends { multiple: true }
    ? string[]
    : O extends { required: true }
      ? string
      : string | undefined;

/** The values of a command's options, by long name. */
export type OptionValues<C extends CommandSpec> = C extends {
  options: infer O extends Readonly<Record<string, OptionSpec>>;
}
  ? { -readonly [K in keyof O]: OptionValue<O[K]> }
  : Record<never, never>;

type PositionalValue<P extends PositionalSpec> = P extends { variadic: true }
  ? string[]
  : P extends { optional: true }
    ? string | undefined
    : string;

/** The values of a command's positionals, by name. */
export type PositionalValues<C extends CommandSpec> = C extends {
  positionals: infer P extends readonly PositionalSpec[];
}
  ? { -readonly [E in P[number] as E["name"]]: PositionalValue<E> }
  : Record<never, never>;

/** A command line parsed: the command, its option values and its positionals. */
export type Invocation<P extends ProgramSpec> = {
  [K in keyof P["commands"] & string]: {
    command: K;
    options: OptionValues<P["commands"][K]>;
    args: PositionalValues<P["commands"][K]>;
  };
}[keyof P["commands"] & string];

/** `help`, no arguments, or `--help`: the usage asked for, to print. */
export interface HelpRequest {
  command: "help";
  usage: string;
}

/** A command line that does not fit the declarations; the message ends with the usage. */
export class UsageError extends Error {}

/** Checks the declarations and keeps their literal types for `parse`. */
export function defineProgram<const P extends ProgramSpec>(program: P): P {
  for (const [name, command] of Object.entries(program.commands)) {
    const bad = (why: string) => new Error(`${program.name} ${name}: ${why}`);
    if (name === "help") throw bad("help is built in");
    const options = Object.entries(command.options ?? {});
    const shorts = options.flatMap(([, o]) => (o.short === undefined ? [] : [o.short]));
    if (new Set(shorts).size !== shorts.length) throw bad("two options share a short name");
    for (const [long, o] of options) {
      if (o.short !== undefined && o.short.length !== 1) throw bad(`-${o.short} is not one letter`);
      if (o.type === "boolean" && (o.required || o.multiple))
        throw bad(`--${long}: a boolean is never required nor multiple`);
    }
    for (const group of command.exclusive ?? []) {
      for (const long of group)
        if (command.options?.[long]?.type !== "boolean")
          throw bad(`exclusive: --${long} is not a boolean option`);
    }
    const positionals = command.positionals ?? [];
    if (positionals.slice(0, -1).some((p) => p.variadic))
      throw bad("only the last positional may be variadic");
    const firstOptional = positionals.findIndex((p) => p.optional || p.variadic);
    if (
      firstOptional >= 0 &&
      positionals.slice(firstOptional).some((p) => !p.optional && !p.variadic)
    )
      throw bad("a required positional follows an optional one");
  }
  return program;
}

/**
 * Parses `argv` (without the program's own name) into a command of `program`.
 * Throws UsageError for anything the declarations do not allow.
 */
export function parse<P extends ProgramSpec>(
  program: P,
  argv: readonly string[],
): Invocation<P> | HelpRequest {
  if (argv.length === 0) return { command: "help", usage: programUsage(program) };
  if (argv[0] === "help") {
    if (argv.length === 1) return { command: "help", usage: programUsage(program) };
    const name = findCommand(program, argv.slice(1));
    if (name === undefined || name.split(" ").length !== argv.length - 1)
      throw new UsageError(`no command ${argv.slice(1).join(" ")}\n${programUsage(program)}`);
    return { command: "help", usage: commandUsage(program, name) };
  }
  const name = findCommand(program, argv);
  if (name === undefined) {
    const typed = isGroup(program, argv[0]) ? argv.slice(0, 2) : argv.slice(0, 1);
    throw new UsageError(`unknown command ${typed.join(" ")}\n${programUsage(program)}`);
  }
  const words = name.split(" ").length;
  const parsed = parseCommand(program, name, argv.slice(words));
  return parsed ?? { command: "help", usage: commandUsage(program, name) };
}

/** The longest command name whose words begin `argv`. */
function findCommand(program: ProgramSpec, argv: readonly string[]): string | undefined {
  return Object.keys(program.commands)
    .filter((name) => name.split(" ").every((word, i) => argv[i] === word))
    .sort((a, b) => b.split(" ").length - a.split(" ").length)[0];
}

/** `container` of `container up`: the first word of commands of two or more. */
function isGroup(program: ProgramSpec, word: string): boolean {
  return Object.keys(program.commands).some((n) => n.startsWith(`${word} `));
}

/** Undefined for `--help`. */
function parseCommand<P extends ProgramSpec>(
  program: P,
  name: string,
  argv: readonly string[],
): Invocation<P> | undefined {
  const spec = program.commands[name];
  const declared = spec.options ?? {};
  const fail = (problem: string): never => {
    throw new UsageError(`${problem}\n${commandUsage(program, name)}`);
  };
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(declared).map(([long, o]) => [
        long,
        { type: o.type, ...(o.short === undefined ? {} : { short: o.short }) },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [long, o] of Object.entries(declared))
    values[long] = o.type === "boolean" ? false : o.multiple ? [] : undefined;
  const given = new Set<string>();
  const words: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      words.push(...argv.slice(token.index + 1));
      break;
    }
    if (token.kind === "positional") {
      if (spec.optionsEndAtPositional) {
        words.push(...argv.slice(token.index));
        break;
      }
      words.push(token.value);
      continue;
    }
    const option = Object.hasOwn(declared, token.name) ? declared[token.name] : undefined;
    if (!option) {
      if (token.name === "help") return undefined;
      fail(`unknown option ${token.rawName}`);
    } else if (option.type === "boolean") {
      if (token.value !== undefined) fail(`${token.rawName} takes no value`);
      values[token.name] = true;
    } else {
      // A value that looks like an option is one: `--id --lock` lacks the id.
      // A required one cannot be empty either.
      const value = token.value;
      const looksLikeOption = !token.inlineValue && value?.startsWith("-") && value !== "-";
      if (value === undefined || looksLikeOption || (option.required && value === ""))
        fail(`${token.rawName} needs a value`);
      else if (option.multiple) (values[token.name] as string[]).push(value);
      else if (given.has(token.name)) fail(`${token.rawName} is given twice`);
      else values[token.name] = value;
    }
    given.add(token.name);
  }

  const missing = Object.entries(declared)
    .filter(([long, o]) => o.required && !given.has(long))
    .map(([long]) => `--${long}`);
  if (missing.length > 0)
    fail(`${listed(missing)} ${missing.length === 1 ? "is" : "are"} required`);
  for (const group of spec.exclusive ?? []) {
    const together = group.filter((long) => given.has(long));
    if (together.length > 1)
      fail(`${listed(together.map((long) => `--${long}`))} cannot be used together`);
  }

  const args: Record<string, string | string[]> = {};
  const rest = [...words];
  for (const p of spec.positionals ?? []) {
    if (p.variadic) args[p.name] = rest.splice(0);
    else if (rest.length > 0) args[p.name] = rest.shift()!;
    else if (!p.optional) fail(`missing <${p.name}>`);
  }
  if (rest.length > 0) fail(`unexpected argument ${JSON.stringify(rest[0])}`);
  return { command: name, options: values, args } as Invocation<P>;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length === 1
    ? items[0]
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const WIDTH = 100;

/** The parts of a command's synopsis: `--id <id>`, `[-i]`, `[--once | --restart]`, `<command>...`. */
function synopsisParts(spec: CommandSpec): string[] {
  const options = spec.options ?? {};
  const groups = spec.exclusive ?? [];
  const bare = (long: string) => {
    const o = options[long];
    if (o.type === "boolean") return o.short === undefined ? `--${long}` : `-${o.short}`;
    return `--${long} <${o.value ?? long}>`;
  };
  const parts: string[] = [];
  for (const [long, o] of Object.entries(options)) {
    const group = groups.find((g) => g.includes(long));
    if (group) {
      if (group[0] === long) parts.push(`[${group.map(bare).join(" | ")}]`);
    } else if (o.required) parts.push(bare(long));
    else parts.push(`[${bare(long)}]${o.multiple ? "..." : ""}`);
  }
  const positionals = spec.positionals ?? [];
  if (positionals.some((p) => p.variadic)) parts.push("[--]");
  for (const p of positionals) {
    const word = `<${p.name}>${p.variadic ? "..." : ""}`;
    parts.push(p.optional || p.variadic ? `[${word}]` : word);
  }
  return parts;
}

/** Words joined by spaces, wrapped at WIDTH; continuation lines start with `indent`. */
function wrap(first: string, parts: string[], indent: string): string {
  const lines = [first];
  for (const part of parts) {
    const last = lines[lines.length - 1];
    if (last.trim() !== "" && last.length + 1 + part.length > WIDTH) lines.push(`${indent}${part}`);
    else lines[lines.length - 1] = `${last} ${part}`;
  }
  return lines.join("\n");
}

/** One command's usage: its synopsis, summary, options and notes. */
export function commandUsage(program: ProgramSpec, name: string): string {
  const spec = program.commands[name];
  const head = `usage: ${program.name} ${name}`;
  const lines = [wrap(head, synopsisParts(spec), " ".repeat(head.length + 1)), `  ${spec.summary}`];
  const options = Object.entries(spec.options ?? {}).map(([long, o]) => [
    `${o.short === undefined ? "" : `-${o.short}, `}--${long}${o.type === "string" ? ` <${o.value ?? long}>` : ""}`,
    o.description,
  ]);
  if (options.length > 0) {
    const column = Math.max(...options.map(([flags]) => flags.length)) + 2;
    lines.push("", ...options.map(([flags, what]) => `  ${flags.padEnd(column)}${what}`));
  }
  if (spec.notes !== undefined) lines.push("", spec.notes);
  return lines.join("\n");
}

/** The program's usage: every command with its synopsis and summary, by section. */
export function programUsage(program: ProgramSpec): string {
  const sections = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(program.commands)) {
    const section = spec.section ?? "";
    const line = wrap(`  ${name}`, synopsisParts(spec), " ".repeat(name.length + 5));
    sections.set(section, [...(sections.get(section) ?? []), line, `      ${spec.summary}`]);
  }
  const blocks = [...sections].map(([section, lines]) =>
    [...(section === "" ? [] : [`${section}:`]), ...lines].join("\n"),
  );
  return [
    `usage: ${program.name} <command> ...`,
    ...blocks,
    `${program.name} help <command>, or ${program.name} <command> --help: that command's options`,
  ].join("\n\n");
}
