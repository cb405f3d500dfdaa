/**
 * Shapes of conductor stack config, in zod. Every schema states its own "expected ..." wording,
 * which issues.ts turns into `<path>: expected ..., got <value>`; zod's defaults never reach a user.
 * Rules that look across fields live in checks.ts.
 */
import ms from "ms";
import { z } from "zod";

/** Names become parts of container names, file names and ids: `<app>_<service>_<stack>`. */
export const NAME = /^[a-z0-9][a-z0-9-]*$/;
export const NAME_RULE = `lowercase letters, digits and "-", starting with a letter or digit`;
const USER = /^[a-z_][a-z0-9_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SERVER_NAME = /^[A-Za-z0-9._*-]+$/;
/** Printable ASCII without space: it is sent verbatim as an HTTP request target. */
const HTTP_PATH = /^\/[\x21-\x7e]*$/;
/** ms() reads a bare "2" as 2ms; requiring a unit keeps `timeout: "2"` from meaning that. */
const DURATION_TEXT = /^\d+(?:\.\d+)?\s*[a-z]+$/i;
/** Node timers fire at once above 2^31-1 ms, so a longer wait would silently become none. */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** Every default in one place; durations already in milliseconds. */
export const DEFAULTS = {
  /** The dev stack's fleet: the machine running pulumi. */
  hosts: { local: { address: "local" } },
  user: "root",
  sshPort: 22,
  replicas: 1,
  stopTimeoutMs: ms("30s"),
  healthCheck: {
    path: "/health",
    timeoutMs: ms("2s"),
    intervalMs: ms("1s"),
    deadlineMs: ms("60s"),
  },
  nginx: { listen: 80, serverName: "_" },
  allowOverlap: false,
  supervise: true,
} as const;

/** Keys that only mean something under `http`: put at the service level, they get a hint. */
export const HTTP_ONLY_KEYS: Readonly<Record<string, string>> = {
  port: "port needs http: move it to http.port",
  healthCheck: "healthCheck needs http: move it under http, or add http.port",
  nginx: "nginx needs http: move it under http, or add http.port",
};

/** Argv and env files cannot carry NUL, so no string bound for a host may contain one. */
const noNul = (s: string): boolean => !s.includes("\0");

function text(expected: string, ok: (s: string) => boolean) {
  return z.string({ error: expected }).refine(ok, { error: expected });
}

function wholeNumber(min: number, max: number, expected: string) {
  const inRange = (n: number) => Number.isInteger(n) && n >= min && n <= max;
  return z.number({ error: expected }).refine(inRange, { error: expected });
}

function list<T extends z.ZodType>(element: T, expected: string) {
  return z.array(element, { error: expected }).min(1, { error: expected });
}

/** A strict object whose unknown-key issue lists the keys it does know. */
function strict<T extends z.core.$ZodLooseShape>(shape: T, example: string) {
  const known = `expected one of: ${Object.keys(shape).join(", ")}`;
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys" ? known : `expected an object such as ${example}`,
  });
}

/** Milliseconds, or undefined when the text is not a whole-millisecond duration with a unit. */
export function parseDuration(value: string): number | undefined {
  if (!DURATION_TEXT.test(value)) return undefined;
  const parsed: number | undefined = ms(value as ms.StringValue);
  return Number.isInteger(parsed) ? parsed : undefined;
}

function duration(min: 0 | 1) {
  const expected =
    min === 0
      ? `expected a duration from 0s to 24d such as "10s" or "1m"`
      : `expected a duration from 1ms to 24d such as "500ms", "2s" or "1m"`;
  return z.string({ error: expected }).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed !== undefined && parsed >= min && parsed <= MAX_DURATION_MS) return parsed;
    ctx.issues.push({ code: "custom", message: expected, input: value });
    return z.NEVER;
  });
}

export const port = wholeNumber(1, 65535, "expected a port from 1 to 65535");
const flag = z.boolean({ error: "expected true or false" });
/** YAML reads `[sleep, 10]` as a number; quoting keeps the argument exactly as written. */
const arg = z
  .string({ error: "expected a string (quote numbers in YAML)" })
  .refine(noNul, { error: "expected a string without the NUL character" });

const named = (what: string) => text(`expected ${what} of ${NAME_RULE}`, (s) => NAME.test(s));
export const appSchema = named("an app name");
export const stackSchema = text(
  `expected a stack name of ${NAME_RULE} (it is part of service ids)`,
  (s) => NAME.test(s),
);
export const hostNameSchema = named("a host name");
export const serviceNameSchema = named("a service name");

/** An all-digit short SHA is a number in YAML, and `--path` turns it into one too. */
export const revisionSchema = z.string({
  error: "expected a git commit SHA as a string (quote it in YAML, or pass --type string)",
});

const address = text(
  `expected "local" or a host name or IP address`,
  (s) => s !== "" && !s.startsWith("-") && !/\s/.test(s) && noNul(s),
);

export const hostSchema = strict(
  {
    address,
    user: text(`expected a user name of lowercase letters, digits, "_" and "-"`, (s) =>
      USER.test(s),
    ).optional(),
    port: port.optional(),
  },
  "{ address: 10.0.1.11, user: deploy }",
);

/** conductor:hosts and conductor:services: names to bodies; parse.ts checks each apart. */
function entries(what: string, example: string, plural = `${what}s`) {
  return z
    .record(z.string(), z.unknown(), {
      error: `expected an object of ${plural} such as ${example}`,
    })
    .refine((o) => Object.keys(o).length > 0, { error: `expected at least one ${what}` });
}

export const hostsSchema = entries("host", "{ app-1: { address: 10.0.1.11 } }");
export const servicesSchema = entries("service", "{ app: { image: registry.example.com/app } }");

const healthCheckSchema = strict(
  {
    path: text(`expected a path starting with "/" without spaces, such as /health`, (s) =>
      HTTP_PATH.test(s),
    ).default(DEFAULTS.healthCheck.path),
    timeout: duration(1).default(DEFAULTS.healthCheck.timeoutMs),
    interval: duration(1).default(DEFAULTS.healthCheck.intervalMs),
    deadline: duration(1).default(DEFAULTS.healthCheck.deadlineMs),
  },
  "{ path: /health, timeout: 2s }",
);

const nginxSchema = strict(
  {
    listen: port.default(DEFAULTS.nginx.listen),
    serverName: text(`expected a server name such as api.example.com, or "_"`, (s) =>
      SERVER_NAME.test(s),
    ).default(DEFAULTS.nginx.serverName),
  },
  "{ listen: 80, serverName: api.example.com }",
);

const httpSchema = strict(
  { port, healthCheck: healthCheckSchema.prefault({}), nginx: nginxSchema.optional() },
  "{ port: 3000 }",
);

const cronSchema = strict(
  {
    generate: list(arg, "expected a non-empty list of strings such as [bin/generate-cron]"),
    allowOverlap: flag.default(DEFAULTS.allowOverlap),
  },
  "{ generate: [bin/generate-cron] }",
);

const envValue = z
  .union([z.string(), z.number(), z.boolean()], { error: "expected a string, number or boolean" })
  .transform(String)
  .refine(noNul, { error: "expected a value without the NUL character" });

const envSchema = z.record(
  text(`expected an env name of letters, digits and "_", not starting with a digit`, (s) =>
    ENV_NAME.test(s),
  ),
  envValue,
  { error: "expected an object such as { RAILS_ENV: production }" },
);

export const serviceShape = {
  image: text("expected an image repository such as registry.example.com/team/app", (s) =>
    /^\S+$/.test(s),
  ),
  revision: revisionSchema.optional(),
  command: list(
    arg,
    "expected a non-empty list of strings such as [bundle, exec, puma]",
  ).optional(),
  hosts: z
    .array(z.string({ error: "expected a host name" }), {
      error: "expected a list of host names such as [app-1, app-2]",
    })
    .optional(),
  replicas: wholeNumber(0, Number.MAX_SAFE_INTEGER, "expected a whole number >= 0").default(
    DEFAULTS.replicas,
  ),
  http: httpSchema.optional(),
  stopTimeout: duration(0).default(DEFAULTS.stopTimeoutMs),
  env: envSchema.optional(),
  cron: cronSchema.optional(),
  supervise: flag.default(DEFAULTS.supervise),
};

export const serviceSchema = strict(serviceShape, "{ image: registry.example.com/team/app }");

/** The keys of the conductor namespace; any other is a mistake, most often a typo. */
export const TOP_LEVEL_KEYS = [
  "app",
  "revision",
  "hosts",
  "services",
  "registries",
  "sshPrivateKey",
] as const;

export const registriesSchema = entries(
  "registry",
  "{ registry.example.com: { username: deploy, password: ... } }",
  "registries",
);

/** A registry as Docker names it: host[:port], the part of an image name before the first "/". */
export const registryNameSchema = text(
  "expected a registry server such as registry.example.com or 10.0.0.5:5000",
  (s) =>
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/.test(
      s,
    ),
);

export const registrySchema = strict(
  {
    username: text("expected a user name without spaces", (s) => /^\S+$/.test(s)),
    password: text("expected a non-empty password", (s) => s.length > 0 && noNul(s)),
  },
  "{ username: deploy, password: ... }",
);

export type ParsedRegistry = z.output<typeof registrySchema>;

export type ParsedHost = z.output<typeof hostSchema>;
export type ParsedService = z.output<typeof serviceSchema>;
