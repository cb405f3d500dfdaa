// Turns an app's `generate-cron` output (a user crontab, what `crontab -l` prints) into
// /etc/cron.d/conductor-<id> (README: "Recurring tasks"): blank lines, comments and NAME=value lines are
// kept as they are, and each job runs in a container of the deployed revision:
//
//   <schedule>  <user>  <conductor> run --id <id> --revision <sha> [--lock] [--env NAME]... -- <shell> -c '<command>'[%<input>]
//
// Why `<shell> -c '<command>'`: cron hands the whole command part of a line to /bin/sh -c. Left
// bare after `conductor run`, the app's command would be split between two machines: `$VAR`,
// `$(...)`, `>`, `|`, `&&` and `;` would act on the host and only its first simple command would
// reach the container. Quoted as one word, the host shell only removes the quotes and the
// container's shell sees exactly the text cron would have given a shell in a plain crontab.
//
// Why quoting keeps cron's `%` meaning: cron reads `%` before any shell does. The first `%` not
// escaped by a backslash ends the command and the rest is the job's stdin (each further `%` a
// newline); `\%` is a literal `%`. We find that first `%` ourselves, quote the raw bytes before it
// (only `'` becomes `'\''`; every `\` and `\%` stays where it was) and append `%` and the rest
// unchanged. Cron then unescapes inside the quotes exactly as it would have in the original line,
// whatever its flavour (Debian's also turns `\\` into `\`), and feeds the job the same stdin.
// Tested against models of Vixie/cronie, Debian and NetBSD cron in crontab.test.ts, and by hand
// under Debian's cron with testdata/crontab/debian-cron-check.sh.
import { CronExpressionParser } from "cron-parser";
import { shellQuote } from "../protocol/quote";
import { CONDUCTOR_BIN, HOST_PATH, REVISION } from "../protocol/rules";

export interface WrapOptions {
  /** e.g. "gocardless_cron_production" ([a-z0-9_-]). */
  serviceId: string;
  /** 7-40 lowercase hex. */
  revision: string;
  /** Default "/usr/local/bin/conductor". */
  conductorPath?: string;
  /** false: each job takes a per-job lock so a run still going is not started twice. */
  allowOverlap: boolean;
  /** Default "root" (cron.d lines have a user field). */
  user?: string;
}
/** `line` is 1-based; `text` is the line as given (less a CRLF's `\r`). */
export interface CrontabProblem {
  line: number;
  text: string;
  reason: string;
}
/** `command` is exactly as in the input. */
export interface CronJob {
  line: number;
  schedule: string;
  command: string;
}
export type WrapResult =
  { ok: true; file: string; jobs: CronJob[] } | { ok: false; problems: CrontabProblem[] };

// Vixie-based crons read a command or an environment line into a 1000-byte buffer (MAX_COMMAND,
// MAX_ENVSTR in macros.h). Debian's cron 3.0pl1-162, tried here, runs a 998-byte command and
// ignores the WHOLE file when one is 999 bytes; cronie allows 128 KiB.
const CRON_MAX_LINE = 998;
const MACROS = ["reboot", "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly"];
// Settings that steer cron itself on the host; the others are the job's and go to its container.
const CRON_SETTINGS = new Set([
  "MAILTO",
  "MAILFROM",
  "CRON_TZ",
  "CONTENT_TYPE",
  "CONTENT_TRANSFER_ENCODING",
  "RANDOM_DELAY",
  "SHELL",
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SAFE_PATH = /^\/[A-Za-z0-9._+/-]+$/;

/** Debian's run-parts ignores cron.d files whose names have dots; ids are [a-z0-9_-]. */
export function cronFileName(serviceId: string): string {
  return `conductor-${serviceId}`;
}

export function wrapCrontab(input: string, options: WrapOptions): WrapResult {
  const wrap = settings(options);
  const out = header(wrap);
  const jobs: CronJob[] = [];
  const problems: CrontabProblem[] = [];
  const env = { shell: "/bin/sh", names: [] as string[] };
  for (const [i, text] of splitLines(input).entries()) {
    const result = renderLine(text, env, wrap);
    if ("reason" in result) {
      problems.push({ line: i + 1, text, reason: result.reason });
      continue;
    }
    if (result.job) jobs.push({ line: i + 1, ...result.job });
    out.push(result.text);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, file: `${out.join("\n")}\n`, jobs };
}

export function formatProblems(problems: CrontabProblem[]): string {
  return problems
    .map((p) => `generate-cron output, line ${p.line}: \`${visible(p.text)}\` : ${p.reason}`)
    .join("\n");
}

interface Settings {
  serviceId: string;
  revision: string;
  conductorPath: string;
  user: string;
  lock: boolean;
}

/** Options come from validated config; a bad one is a bug, so it throws. */
function settings(options: WrapOptions): Settings {
  const conductorPath = options.conductorPath ?? CONDUCTOR_BIN;
  const user = options.user ?? "root";
  const checks: [string, string, RegExp][] = [
    ["serviceId", options.serviceId, /^[a-z0-9_-]+$/],
    ["revision", options.revision, REVISION],
    ["conductorPath", conductorPath, SAFE_PATH],
    ["user", user, /^[a-z_][a-z0-9_.-]*$/],
  ];
  for (const [name, value, pattern] of checks) {
    if (!pattern.test(value))
      throw new Error(`wrapCrontab: ${name} ${JSON.stringify(value)} does not match ${pattern}`);
  }
  return {
    serviceId: options.serviceId,
    revision: options.revision,
    conductorPath,
    user,
    lock: !options.allowOverlap,
  };
}

function header(s: Settings): string[] {
  return [
    `# Installed by conductor for ${s.serviceId} at revision ${s.revision}; do not edit, each deploy rewrites it.`,
    "SHELL=/bin/sh",
    `PATH=${HOST_PATH}`,
  ];
}

/** Lines without their `\n` (and a CRLF's `\r`); a final newline does not start another line. */
function splitLines(input: string): string[] {
  if (input === "") return [];
  const lines = input.split("\n").map((l) => l.replace(/\r$/, ""));
  if (input.endsWith("\n")) lines.pop();
  return lines;
}

interface EnvState {
  shell: string;
  names: string[];
}
type Rendered = { text: string; job?: Omit<CronJob, "line"> } | { reason: string };

function renderLine(text: string, env: EnvState, s: Settings): Rendered {
  if (text.includes("\0")) return { reason: "contains a NUL byte, which cron cannot read" };
  if (/^[ \t]*(#|$)/.test(text)) return { text };
  // Cron tries every line as an environment setting first (load_env), then as a job.
  const setting = parseEnv(text);
  if (setting) return renderEnv(text, setting, env);
  const job = parseJob(text);
  if ("reason" in job) return job;
  const command = wrapCommand(job.command, env, s);
  if (typeof command !== "string") return command;
  return { text: `${job.schedule}  ${s.user}  ${command}`, job };
}

function renderEnv(text: string, setting: EnvSetting, env: EnvState): Rendered {
  const reason = envProblem(text, setting);
  if (reason) return { reason };
  if (setting.name === "SHELL") env.shell = setting.value;
  if (!CRON_SETTINGS.has(setting.name) && !env.names.includes(setting.name)) {
    env.names.push(setting.name);
  }
  return { text };
}

function envProblem(text: string, { name, value }: EnvSetting): string | undefined {
  if (!ENV_NAME.test(name)) {
    return `environment name ${JSON.stringify(name)} cannot be passed to the job's container: use letters, digits and _, not starting with a digit`;
  }
  if (name === "SHELL" && !SAFE_PATH.test(value)) {
    return "SHELL must be an absolute path such as /bin/bash: cron runs each line with it on the host, and conductor runs the job with it in the container";
  }
  if (byteLength(text.replace(/^[ \t]+/, "")) > CRON_MAX_LINE) {
    return `longer than ${CRON_MAX_LINE} bytes: cron would silently cut the value`;
  }
  return undefined;
}

interface EnvSetting {
  name: string;
  value: string;
}

enum EnvScan {
  NameStart,
  Name,
  Equals,
  AfterEquals,
  ValueStart,
  Value,
  Done,
  Error,
}

const isCSpace = (c: string) => " \t\n\v\f\r".includes(c);

/**
 * Cron's own rule for `NAME=value` lines: the state machine of load_env (env.c in cronie and
 * ISC cron 4.1), which Debian's cron follows too (checked with its `crontab -n`). Blanks around
 * `=`, a name or value may be in matching quotes, a quoted value must end the line. `NAME=`
 * (empty, unquoted) is a setting for cronie but not for Debian, so it is not one here: NAME="".
 */
function parseEnv(text: string): EnvSetting | undefined {
  const s = text.replace(/^[ \t]+/, "");
  let state = EnvScan.NameStart;
  let quote = "";
  const parts = { name: "", value: "" };
  for (let i = 0; i < s.length && state !== EnvScan.Error;) {
    const c = s[i];
    const step = scanEnvChar(state, c, quote);
    if (step.quote !== undefined) quote = step.quote;
    if (step.keep) parts[state === EnvScan.Name ? "name" : "value"] += c;
    state = step.state;
    i += step.consumed ? 1 : 0;
  }
  if (state !== EnvScan.Done && !(state === EnvScan.Value && !quote)) return undefined;
  const value = state === EnvScan.Value ? parts.value.replace(/[ \t\n\v\f\r]+$/, "") : parts.value;
  return { name: parts.name, value };
}

interface EnvStep {
  state: EnvScan;
  consumed: boolean;
  keep?: boolean;
  quote?: string;
}

function scanEnvChar(state: EnvScan, c: string, quote: string): EnvStep {
  switch (state) {
    case EnvScan.NameStart:
    case EnvScan.ValueStart:
      if (c === "'" || c === '"') return { state: state + 1, consumed: true, quote: c };
      return { state: state + 1, consumed: false };
    case EnvScan.Name:
    case EnvScan.Value:
      if (quote && c === quote) return { state: state + 1, consumed: true };
      if (quote && state === EnvScan.Name && c === "=")
        return { state: EnvScan.Error, consumed: false };
      if (!quote && state === EnvScan.Name && isCSpace(c))
        return { state: state + 1, consumed: true };
      if (!quote && state === EnvScan.Name && c === "=")
        return { state: state + 1, consumed: false };
      return { state, consumed: true, keep: true };
    case EnvScan.Equals:
      if (c === "=") return { state: state + 1, consumed: true, quote: "" };
      return { state: isCSpace(c) ? state : EnvScan.Error, consumed: true };
    case EnvScan.AfterEquals:
    case EnvScan.Done:
      return isCSpace(c) ? { state, consumed: true } : { state: state + 1, consumed: false };
    case EnvScan.Error:
      return { state, consumed: false };
  }
}

type Job = Omit<CronJob, "line">;

/** A job line: five time fields or an @ schedule, blanks, then the command (cron's load_entry). */
function parseJob(text: string): Job | { reason: string } {
  const s = text.replace(/^[ \t]+/, "");
  if (s.startsWith("@")) return parseMacroJob(s);
  const fields: string[] = [];
  let rest = s;
  while (fields.length < 5 && rest !== "") {
    const [field] = /^[^ \t]+/.exec(rest) ?? [""];
    fields.push(field);
    rest = rest.slice(field.length).replace(/^[ \t]+/, "");
  }
  if (ENV_LIKE.test(s)) return { reason: NOT_ENV };
  if (/^[A-Za-z]{2}/.test(s)) return { reason: NOT_A_LINE };
  if (fields.length < 5)
    return { reason: `expected five time fields and a command, found ${fields.length} field(s)` };
  const reason = scheduleProblem(fields) ?? commandProblem(rest);
  return reason ? { reason } : { schedule: fields.join(" "), command: rest };
}

// Lines cron would reject, worded for what their author most likely meant.
const ENV_LIKE = /^["']?[A-Za-z_][A-Za-z0-9_]*["']?[ \t]*=/;
const NOT_ENV =
  'not an environment setting as cron reads it: NAME=value, a quoted value must end the line, and an empty value is written NAME=""';
const NOT_A_LINE =
  "neither a comment, an environment setting (NAME=value) nor a job (five time fields or an @ schedule, then a command)";

function parseMacroJob(s: string): Job | { reason: string } {
  const [schedule] = /^[^ \t]*/.exec(s) ?? [""];
  const command = s.slice(schedule.length).replace(/^[ \t]+/, "");
  if (!MACROS.includes(schedule.slice(1))) {
    return {
      reason: `unknown schedule ${schedule}: cron knows ${MACROS.map((m) => `@${m}`).join(" ")}`,
    };
  }
  const reason = commandProblem(command);
  return reason ? { reason } : { schedule, command };
}

function commandProblem(command: string): string | undefined {
  if (command === "") return "no command after the schedule";
  if (command.startsWith("%"))
    return "no command before the first % (what follows it is the job's input)";
  // cronie rejects this too ("a common typo"): a sixth time field, as in Quartz's seconds.
  if (command.startsWith("*"))
    return "the command starts with `*`: cron has five time fields, no seconds or year field";
  return undefined;
}

interface FieldSpec {
  name: string;
  names: boolean;
}
const FIELDS: FieldSpec[] = [
  { name: "minute", names: false },
  { name: "hour", names: false },
  { name: "day-of-month", names: false },
  { name: "month", names: true },
  { name: "day-of-week", names: true },
];

function scheduleProblem(fields: string[]): string | undefined {
  const problems = fields.flatMap((field, i) => {
    const reasons = field.split(",").map((item) => itemProblem(item, i));
    const first = reasons.find((r) => r !== undefined);
    return first ? [`bad ${FIELDS[i].name} ${JSON.stringify(field)}: ${first}`] : [];
  });
  return problems.length > 0 ? problems.join("; ") : undefined;
}

/** One list item: its shape is checked here, its values by cron-parser. */
function itemProblem(item: string, position: number): string | undefined {
  return itemShapeProblem(item, FIELDS[position]) ?? libraryProblem(item, position);
}

// Vixie cron's grammar for one list item (entry.c get_range): `*` or a value or a range, a step
// only after `*` or a range, values of digits or (month, day of week) three-letter names.
// cron-parser also takes L, W, ?, #, H and lone values with steps (5/15), which cron rejects, so
// they are refused here first. Numbers are capped at three digits: cron parses them with atoi
// into an int, and no field means anything above 99.
const VALUE = "(?:\\d{1,3}|[A-Za-z]{3})";
const ITEM = new RegExp(`^(?:\\*(?:/\\d{1,3})?|${VALUE}|${VALUE}-${VALUE}(?:/\\d{1,3})?)$`);

function itemShapeProblem(item: string, field: FieldSpec): string | undefined {
  if (item === "") return "an empty list item";
  if (/^[0-9A-Za-z]+\/\d+$/.test(item)) {
    return `a step needs a range or * before it: cron rejects ${item}, write ${item.replace("/", "-<last>/")}`;
  }
  if (!ITEM.test(item)) {
    return `${JSON.stringify(item)} is not cron syntax (cron has lists, ranges, steps, * and three-letter names; no L, W, ?, #, H or seconds)`;
  }
  if (!field.names && /[A-Za-z]/.test(item)) return `names are only for month and day of week`;
  return undefined;
}

const WILDCARDS = ["*", "*", "*", "*", "*"];

/** Each list item alone, the others `*`: cron-parser rejects repeats across items (0,7) and
 * impossible dates (31 in April), both of which cron accepts. */
function libraryProblem(item: string, position: number): string | undefined {
  const fields = WILDCARDS.map((w, i) => (i === position ? item : w));
  try {
    CronExpressionParser.parse(fields.join(" "));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The cron.d command part, or why this command cannot be wrapped. */
function wrapCommand(command: string, env: EnvState, s: Settings): string | { reason: string } {
  const split = splitAtPercent(command);
  if ("reason" in split) return split;
  const words = [
    s.conductorPath,
    ...["run", "--id", s.serviceId, "--revision", s.revision],
    ...(s.lock ? ["--lock"] : []),
    ...env.names.flatMap((name) => ["--env", name]),
    ...["--", env.shell, "-c"],
  ];
  // Every word above is validated to need no quoting; the app's command is the one value quoted.
  const wrapped = `${words.join(" ")} ${shellQuote(split.command)}${split.input ?? ""}`;
  if (byteLength(wrapped) > CRON_MAX_LINE) {
    return {
      reason: `wrapped, the command is ${byteLength(wrapped)} bytes and cron reads at most ${CRON_MAX_LINE}: move it into a script in the image`,
    };
  }
  return wrapped;
}

/**
 * Splits a crontab command where cron does: at the first `%` with no backslash before it. That
 * `%` and the rest (the job's stdin) are returned untouched in `input`. A `%` after an even run
 * of backslashes (`\\%`) ends the command in Vixie cron, cronie and Debian's, not in NetBSD's, so
 * it is refused rather than guessed.
 */
function splitAtPercent(command: string): { command: string; input?: string } | { reason: string } {
  for (let i = command.indexOf("%"); i !== -1; i = command.indexOf("%", i + 1)) {
    const run = backslashesBefore(command, i);
    if (run === 0) return { command: command.slice(0, i), input: command.slice(i) };
    if (run % 2 === 0) {
      return {
        reason: `${"\\".repeat(run)}%: cron implementations disagree on whether this % starts the job's input; use \\% for a literal % or move the command into a script`,
      };
    }
  }
  return { command };
}

function backslashesBefore(text: string, end: number): number {
  let start = end;
  while (start > 0 && text[start - 1] === "\\") start--;
  return end - start;
}

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

/** Problem texts may hold control characters (tabs aside); show them as escapes. */
function visible(text: string): string {
  const escape = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  return [...text].map((c) => (c !== "\t" && (c < " " || c === "\x7f") ? escape(c) : c)).join("");
}
