// How conductor writes and reads its files on a host: one atomic write for
// everything it installs or records, and readers that say what went wrong
// (missing, corrupt, or unreadable) instead of guessing, each naming the file.
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";

/**
 * What reading one file found. "missing" is an answer, not a fault (a record
 * the deploy removed, a service never paused); "corrupt" and "unreadable" are
 * faults that the caller reports, with `message` naming the file and why.
 */
export type Read<T> =
  | { status: "ok"; value: T }
  | { status: "missing"; file: string }
  | { status: "corrupt"; file: string; message: string }
  | { status: "unreadable"; file: string; message: string };

export type Fault = Extract<Read<unknown>, { message: string }>;

/** Every file of a directory that could be read, and the faults of those that could not. */
export interface Listing<T> {
  values: T[];
  faults: (Fault & { name: string })[];
}

/** A fault the caller cannot go on without, e.g. `conductor run` of an unreadable release. */
export class StoreError extends Error {
  constructor(readonly fault: Fault) {
    super(fault.message);
  }
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** An IO error other than ENOENT, e.g. "cannot read /x: EACCES: permission denied". */
export function unreadable(file: string, err: unknown, verb = "read"): Fault {
  // Node's message ends with the call (", open '/x'", ", read"): we name the file ourselves.
  const reason = (err as Error).message.replace(/, \w+( '.*')?$/, "");
  return { status: "unreadable", file, message: `cannot ${verb} ${file}: ${reason}` };
}

/**
 * Writes to a temporary file beside `file` and renames it over, so a reader
 * (conductor itself, nginx, cron) never sees half a file. The temporary name
 * starts with a dot and ends in `.tmp`: nginx's `*.conf`, cron.d's scan and
 * our `*.json` listings all skip it.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, content, { mode });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes a file; true when there was one. */
export function removeFile(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw err;
  }
}

export function readText(file: string): Read<string> {
  try {
    return { status: "ok", value: fs.readFileSync(file, "utf8") };
  } catch (err) {
    if (errno(err) === "ENOENT") return { status: "missing", file };
    return unreadable(file, err);
  }
}

/** A JSON file checked against `schema`; `what` names it in messages ("a container record"). */
export function readJson<T>(file: string, schema: z.ZodType<T>, what: string): Read<T> {
  const text = readText(file);
  if (text.status !== "ok") return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.value);
  } catch (err) {
    return { status: "corrupt", file, message: `${file} is not JSON: ${whereJsonBreaks(err)}` };
  }
  const checked = schema.safeParse(parsed);
  if (checked.success) return { status: "ok", value: checked.data };
  // Paths and expectations only, never values: records hold secrets.
  const issues = checked.error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.join(".") : "(the whole file)"}: ${i.message}`,
  );
  return { status: "corrupt", file, message: `${file} is not ${what}: ${issues.join("; ")}` };
}

/**
 * Why JSON.parse failed, without the file's text: records hold secrets, and
 * V8's message quotes the text around the error (`Unexpected token 'h',
 * ..."PASSWORD":hunter2-ve"... is not valid JSON`) and the token itself. Only
 * its fixed wording for a truncated file and the position are kept.
 */
function whereJsonBreaks(err: unknown): string {
  const message = (err as Error).message;
  if (message === "Unexpected end of JSON input") return "it ends before the JSON does";
  const position = / at position (\d+)/.exec(message)?.[1];
  return position === undefined ? "unexpected text" : `unexpected text at position ${position}`;
}

/** The value, or a StoreError for a fault; undefined when the file is missing. */
export function valueOrThrow<T>(read: Read<T>): T | undefined {
  if (read.status === "ok") return read.value;
  if (read.status === "missing") return undefined;
  throw new StoreError(read);
}

/** The names of a directory's `*<suffix>` files, without the suffix, sorted; none when it does not exist. */
export function listNames(dir: string, suffix: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    if (errno(err) === "ENOENT") return [];
    throw new StoreError(unreadable(dir, err, "list"));
  }
  return entries
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, f.length - suffix.length))
    .sort();
}

/**
 * Every `*.json` file of a directory, checked. One bad file is a fault in the
 * listing, never an exception that would hide the good ones; a file removed
 * while we list (a deploy stopping its container) is simply not there.
 */
export function listJson<T>(dir: string, schema: z.ZodType<T>, what: string): Listing<T> {
  const listing: Listing<T> = { values: [], faults: [] };
  for (const name of listNames(dir, ".json")) {
    const read = readJson(path.join(dir, `${name}.json`), schema, what);
    if (read.status === "ok") listing.values.push(read.value);
    else if (read.status !== "missing") listing.faults.push({ ...read, name });
  }
  return listing;
}

/**
 * A directory of files conductor installs for another program:
 * /etc/nginx/conf.d, /etc/cron.d. Written atomically with `mode`.
 */
export class ConfDir {
  constructor(
    readonly dir: string,
    private readonly mode: number,
  ) {}

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** The file's text; undefined when there is none; throws when it cannot be read. */
  read(name: string): string | undefined {
    return valueOrThrow(readText(this.path(name)));
  }

  write(name: string, content: string): void {
    writeFileAtomic(this.path(name), content, this.mode);
  }

  /** True when there was a file to remove. */
  remove(name: string): boolean {
    return removeFile(this.path(name));
  }
}
