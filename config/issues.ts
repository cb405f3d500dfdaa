/**
 * Problems with their paths: printing paths and values (never a secret one), mapping zod's
 * issues to our wording, and putting problems in the order the config is written in.
 */
import type { z } from "zod";

export type Segment = string | number;
/** First segment is the top-level key: "app", "revision", "hosts", "services", or "stack". */
export type Path = readonly Segment[];
export interface PathIssue {
  path: Path;
  message: string;
}

export const SECRET = "[secret]";
const MAX_SHOWN = 80;
/** Keys that need no quoting in Pulumi's --path syntax. */
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** Pulumi's --path syntax, so a path can be pasted into `pulumi config set --path`. */
export function formatPath([top, ...rest]: Path): string {
  if (top === "stack") return "stack";
  return rest.reduce<string>((out, seg) => out + formatSegment(seg), `conductor:${String(top)}`);
}

function formatSegment(seg: Segment): string {
  if (typeof seg === "number") return `[${seg}]`;
  return PLAIN_KEY.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
}

/** A value as JSON; under a secret key only its structure, which cannot leak a secret. */
export function show(value: unknown, secret: boolean): string {
  if (!secret) return clip(JSON.stringify(value) ?? String(value));
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : "a list";
  if (typeof value === "object") return Object.keys(value).length === 0 ? "{}" : "an object";
  return SECRET;
}

function clip(shown: string): string {
  return shown.length <= MAX_SHOWN ? shown : `${shown.slice(0, MAX_SHOWN - 3)}...`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function valueAt(tree: unknown, path: Path): unknown {
  let node = tree;
  for (const seg of path)
    node = isPlainObject(node) || Array.isArray(node) ? node[seg as never] : undefined;
  return node;
}

/** `<expected>, got <value>`, or just "required" when there is no value at all. */
export function expectedGot(expected: string, value: unknown, secret: boolean): string {
  return value === undefined ? "required" : `${expected}, got ${show(value, secret)}`;
}

export interface ZodContext {
  /** Where the parsed value sits in the config. */
  prefix: Path;
  /** The value that was parsed, to show what was wrong. */
  raw: unknown;
  secret: boolean;
  /** Hints for unknown keys of the parsed object itself (not of nested ones). */
  misplaced?: Readonly<Record<string, string>>;
}

export function fromZod(issues: readonly z.core.$ZodIssue[], ctx: ZodContext): PathIssue[] {
  return issues.flatMap((iss) => fromZodIssue(iss, ctx));
}

function fromZodIssue(iss: z.core.$ZodIssue, ctx: ZodContext): PathIssue[] {
  const rel = iss.path.map((seg) => (typeof seg === "symbol" ? String(seg) : seg));
  const path = [...ctx.prefix, ...rel];
  switch (iss.code) {
    case "unrecognized_keys":
      return iss.keys.map((key) => ({
        path: [...path, key],
        message:
          (rel.length === 0 ? ctx.misplaced?.[key] : undefined) ??
          `unknown key ${JSON.stringify(key)}, ${iss.message}`,
      }));
    case "invalid_key": {
      // Pulumi encrypts values, never keys, so a key is shown; it is the path's last segment.
      const expected = iss.issues[0]?.message ?? iss.message;
      return [{ path, message: expectedGot(expected, rel[rel.length - 1], false) }];
    }
    default:
      return [{ path, message: expectedGot(iss.message, valueAt(ctx.raw, rel), ctx.secret) }];
  }
}

/**
 * Every schema words its own issues; this only keeps zod's terse English ("Invalid input")
 * out of the output should one slip through.
 */
export function fallbackMessage(iss: z.core.$ZodRawIssue): string {
  if (iss.code === "invalid_type") return `expected ${String(iss.expected)}`;
  return "expected a different value";
}

/** Parses `raw`, reporting problems at `ctx.prefix`. */
export function parseAt<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  ctx: Omit<ZodContext, "raw">,
): { data?: z.output<S>; issues: PathIssue[] } {
  const result = schema.safeParse(raw, { error: fallbackMessage });
  if (result.success) return { data: result.data, issues: [] };
  return { issues: fromZod(result.error.issues, { ...ctx, raw }) };
}

/** Issues in the order their paths appear in `tree`; missing keys after present ones. */
export function inConfigOrder(issues: readonly PathIssue[], tree: unknown): PathIssue[] {
  const ranked = unique(issues).map((issue) => ({ issue, rank: rankOf(tree, issue.path) }));
  return ranked.sort((a, b) => compareRanks(a.rank, b.rank)).map((r) => r.issue);
}

/** Should two passes ever see the same fault, say it once. */
function unique(issues: readonly PathIssue[]): PathIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${formatPath(i.path)}\n${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function rankOf(tree: unknown, path: Path): number[] {
  let node = tree;
  return path.map((seg) => {
    const index = indexIn(node, seg);
    node = valueAt(node, [seg]);
    return index < 0 ? Number.POSITIVE_INFINITY : index;
  });
}

/** Position of `seg` among its siblings as written, or -1 when it is not there. */
function indexIn(node: unknown, seg: Segment): number {
  if (Array.isArray(node)) return typeof seg === "number" && seg < node.length ? seg : -1;
  return isPlainObject(node) ? Object.keys(node).indexOf(String(seg)) : -1;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}
