/**
 * First pass: the shape of each part of the config. It keeps whatever did parse (a draft), so
 * the cross-field checks can still run and every problem is reported in one go.
 */
import type { z } from "zod";
import { expectedGot, isPlainObject, parseAt } from "./issues";
import type { Path, PathIssue, ZodContext } from "./issues";
import type { RawFleetInput } from "./model";
import {
  DEFAULTS,
  HTTP_ONLY_KEYS,
  NAME_RULE,
  appSchema,
  hostNameSchema,
  hostSchema,
  hostsSchema,
  registriesSchema,
  registryNameSchema,
  registrySchema,
  revisionSchema,
  serviceNameSchema,
  serviceSchema,
  serviceShape,
  servicesSchema,
  stackSchema,
  TOP_LEVEL_KEYS,
} from "./schema";
import type { ParsedHost, ParsedRegistry, ParsedService } from "./schema";

export interface DraftService {
  name: string;
  raw: Record<string, unknown>;
  /** Set when the whole service parsed. */
  parsed?: ParsedService;
  /** The fields that parsed on their own, for checks on a service with other faults. */
  fields: Partial<ParsedService>;
}

export interface Draft {
  app?: string;
  stack?: string;
  revision?: string;
  /** conductor:revision was given, valid or not. */
  revisionSet: boolean;
  /** Keys of conductor:hosts, valid or not; absent when conductor:hosts is not usable. */
  hostNames?: string[];
  /** The hosts that parsed, by name. */
  hosts: Record<string, ParsedHost>;
  services: DraftService[];
  /** The registries that parsed, by server. */
  registries: Record<string, ParsedRegistry>;
  /** conductor:registries is secret (its passwords must be). */
  registriesAreSecret: boolean;
  /** conductor:services is secret: Pulumi cannot tell us which value under it is. */
  envIsSecret: boolean;
  isSecret(path: Path): boolean;
}

type TopKey = (typeof TOP_LEVEL_KEYS)[number];

export function parseFleet(input: RawFleetInput): { draft: Draft; issues: PathIssue[] } {
  const issues: PathIssue[] = [];
  const isSecret = secretPaths(input.secretKeys);
  const parse: Parse = (schema, raw, prefix, options) => {
    const result = parseAt(schema, raw, { prefix, secret: isSecret(prefix), ...options });
    issues.push(...result.issues);
    return result.data;
  };
  // Only an absent key means "this machine"; null is a mistake to report, not a default.
  const hosts = parseHosts(input.hosts === undefined ? DEFAULTS.hosts : input.hosts, parse);
  const draft: Draft = {
    app: parseApp(input, parse, issues),
    stack: parse(stackSchema, input.stack, ["stack"]),
    revision:
      input.revision === undefined
        ? undefined
        : parse(revisionSchema, input.revision, ["revision"]),
    revisionSet: input.revision !== undefined,
    ...hosts,
    services: parseServices(input.services, parse),
    registries: parseRegistries(input.registries, parse),
    registriesAreSecret: isSecret(["registries"]),
    envIsSecret: isSecret(["services"]),
    isSecret,
  };
  issues.push(...unknownTopLevelKeys(input.keys ?? []));
  return { draft, issues };
}

type Parse = <S extends z.ZodType>(
  schema: S,
  raw: unknown,
  prefix: Path,
  options?: Partial<Pick<ZodContext, "secret" | "misplaced">>,
) => z.output<S> | undefined;

/**
 * Pulumi marks a whole top-level key secret once any --path value under it is set with
 * --secret; a key below the top level is matched too, in case a caller passes one.
 */
function secretPaths(secretKeys: ReadonlySet<string>): (path: Path) => boolean {
  const keys = [...secretKeys];
  const secretTops = new Set(
    TOP_LEVEL_KEYS.filter((top) =>
      keys.some((k) => k === `conductor:${top}` || k.startsWith(`conductor:${top}.`)),
    ),
  );
  return (path) => secretTops.has(String(path[0]) as TopKey);
}

function parseApp(input: RawFleetInput, parse: Parse, issues: PathIssue[]): string | undefined {
  if (input.app !== undefined) return parse(appSchema, input.app, ["app"]);
  const fromProject = appSchema.safeParse(input.project);
  if (fromProject.success) return fromProject.data;
  const expected = `required, as the project name is not a valid app name: expected ${NAME_RULE}`;
  issues.push({ path: ["app"], message: expectedGot(expected, input.project, false) });
  return undefined;
}

/** Names (keys) and bodies are parsed apart, so a bad name does not hide a bad body. */
function parseEntries(
  raw: unknown,
  container: z.ZodType,
  nameSchema: z.ZodType,
  parse: Parse,
  prefix: Path,
): [string, unknown][] | undefined {
  if (parse(container, raw, prefix) === undefined || !isPlainObject(raw)) return undefined;
  const list = Object.entries(raw);
  // A name is a key, and Pulumi encrypts values, never keys: it can be shown.
  for (const [name] of list) parse(nameSchema, name, [...prefix, name], { secret: false });
  return list;
}

function parseHosts(raw: unknown, parse: Parse): Pick<Draft, "hostNames" | "hosts"> {
  const list = parseEntries(raw, hostsSchema, hostNameSchema, parse, ["hosts"]);
  const hosts: Record<string, ParsedHost> = {};
  for (const [name, body] of list ?? []) {
    const host = parse(hostSchema, body, ["hosts", name]);
    if (host) hosts[name] = host;
  }
  return { hostNames: list?.map(([name]) => name), hosts };
}

/** Keys of the namespace the program does not read: never silently ignored. */
function unknownTopLevelKeys(keys: readonly string[]): PathIssue[] {
  const known: readonly string[] = TOP_LEVEL_KEYS;
  return keys
    .filter((key) => !known.includes(key))
    .map((key) => ({
      path: [key],
      message: `unknown key ${JSON.stringify(key)}, expected one of: ${known.join(", ")}`,
    }));
}

function parseRegistries(raw: unknown, parse: Parse): Record<string, ParsedRegistry> {
  if (raw === undefined) return {};
  const list = parseEntries(raw, registriesSchema, registryNameSchema, parse, ["registries"]);
  const registries: Record<string, ParsedRegistry> = {};
  for (const [server, body] of list ?? []) {
    const registry = parse(registrySchema, body, ["registries", server]);
    if (registry) registries[server] = registry;
  }
  return registries;
}

function parseServices(raw: unknown, parse: Parse): DraftService[] {
  const list = parseEntries(raw, servicesSchema, serviceNameSchema, parse, ["services"]);
  return (list ?? []).map(([name, body]) => {
    const parsed = parse(serviceSchema, body, ["services", name], { misplaced: HTTP_ONLY_KEYS });
    const rawBody = isPlainObject(body) ? body : {};
    return { name, raw: rawBody, parsed, fields: parsed ?? parseFields(rawBody) };
  });
}

function parseFields(raw: Record<string, unknown>): Partial<ParsedService> {
  const fields: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(serviceShape) as [string, z.ZodType][]) {
    const result = schema.safeParse(raw[key]);
    if (result.success) fields[key] = result.data;
  }
  return fields as Partial<ParsedService>;
}
