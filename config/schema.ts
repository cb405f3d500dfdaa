/**
 * Shapes of conductor stack config, in zod. Every schema states its own "expected ..." wording,
 * which issues.ts turns into `<path>: expected ..., got <value>`; zod's defaults never reach a user.
 * Rules that look across fields live in checks.ts.
 */
import ms from "ms";
import { z } from "zod";
import { CONDUCTOR_LABEL_PREFIX, DEFAULT_LOGGING } from "../protocol/requests";

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
  /** A migration on a large table can take minutes; a hung one should not hold the deploy for ever. */
  predeployTimeoutMs: ms("10m"),
  supervise: true,
  /** With the json-file driver and no options given: rotate (protocol/requests.ts says why). */
  logging: DEFAULT_LOGGING,
} as const;

/** Keys that only mean something under `http`: put at the service level, they get a hint. */
export const HTTP_ONLY_KEYS: Readonly<Record<string, string>> = {
  port: "port needs http: move it to http.port",
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

const predeploySchema = strict(
  {
    command: list(arg, "expected a non-empty list of strings such as [bin/rails, db:migrate]"),
    timeout: duration(1).default(DEFAULTS.predeployTimeoutMs),
  },
  "{ command: [bin/rails, db:migrate] }",
);

const envValue = z
  .union([z.string(), z.number(), z.boolean()], { error: "expected a string, number or boolean" })
  .transform(String)
  .refine(noNul, { error: "expected a value without the NUL character" });

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;
const VOLUME_EXAMPLE = `such as "uploads:/app/uploads" or "/srv/certs:/certs:ro"`;

/** What is wrong with one side of a `source:target[:mode]` entry, or undefined. */
function volumeProblem(source: string, target: string, mode: string | undefined) {
  if (source.startsWith("/") ? source.includes(",") : !VOLUME_NAME.test(source)) {
    return source.includes("/") || source.startsWith(".")
      ? `expected an absolute host path (starting with "/") or a volume name before ":", ${VOLUME_EXAMPLE}`
      : `expected a volume name of letters, digits, "_", "." and "-" (at least 2), or an absolute host path, before ":"`;
  }
  if (!target.startsWith("/") || target.includes(","))
    return `expected an absolute path in the container after ":", ${VOLUME_EXAMPLE}`;
  if (mode !== undefined && mode !== "ro" && mode !== "rw")
    return `expected ":ro" or ":rw" at the end, ${VOLUME_EXAMPLE}`;
  return undefined;
}

/** `uploads:/app/uploads`, `/srv/certs:/certs:ro`: what `docker run -v` takes, checked. */
const volume = z
  .string({ error: `expected a volume ${VOLUME_EXAMPLE}` })
  .transform((value, ctx) => {
    const parts = value.split(":");
    const [source, target, mode] = parts;
    const problem =
      parts.length < 2 || parts.length > 3 || value.includes("\0")
        ? `expected "<volume or /host/path>:</container/path>[:ro]", ${VOLUME_EXAMPLE}`
        : volumeProblem(source, target, mode);
    if (problem === undefined) return { source, target, readOnly: mode === "ro" };
    ctx.issues.push({ code: "custom", message: problem, input: value });
    return z.NEVER;
  });

const SIZE_TEXT = /^(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?$/i;
const SIZE_UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
/** Docker refuses a memory limit below 6 MiB. */
const MIN_MEMORY = 6 * 2 ** 20;

/** Bytes, or undefined: a number with a unit (k, m, g, t: binary, as Docker reads them). */
export function parseSize(value: string): number | undefined {
  const match = SIZE_TEXT.exec(value);
  if (!match) return undefined;
  return Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]);
}

const memory = z
  .string({ error: `expected a memory size of at least 6m such as "512m" or "1.5g"` })
  .transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes !== undefined && bytes >= MIN_MEMORY) return bytes;
    ctx.issues.push({
      code: "custom",
      message: `expected a memory size of at least 6m such as "512m" or "1.5g"`,
      input: value,
    });
    return z.NEVER;
  });

const cpusExpected = "expected a number of CPUs from 0.01, such as 0.5 or 2";
const cpus = z
  .number({ error: cpusExpected })
  .refine((n) => Number.isFinite(n) && n >= 0.01 && n <= 1024, { error: cpusExpected });

const resourcesSchema = strict(
  { memory: memory.optional(), cpus: cpus.optional() },
  "{ memory: 512m, cpus: 1.5 }",
);

/** A string, number or boolean as a string, for values Docker takes as text. */
const textValue = (what: string) =>
  z
    .union([z.string(), z.number(), z.boolean()], {
      error: `expected ${what} as a string, number or boolean`,
    })
    .transform(String)
    .refine(noNul, { error: "expected a value without the NUL character" });

const loggingSchema = strict(
  {
    driver: text("expected a log driver such as json-file, local or journald", (s) =>
      /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/.test(s),
    ).optional(),
    options: z
      .record(
        text("expected an option name such as max-size", (s) => /^[A-Za-z0-9][\w.-]*$/.test(s)),
        textValue("an option value"),
        { error: "expected an object such as { max-size: 10m }" },
      )
      .optional(),
  },
  "{ driver: json-file, options: { max-size: 10m } }",
);

const userExpected =
  "expected a user name or uid, with an optional group, such as app or 1000:1000";
const USER_PART = "[A-Za-z0-9_][A-Za-z0-9_.-]*";
const userSchema = z
  .union([z.string(), z.number()], { error: userExpected })
  .transform(String)
  .refine((s) => new RegExp(`^${USER_PART}(?::${USER_PART})?$`).test(s), { error: userExpected });

/** Linux's signals, as Docker's StopSignal names them. */
const SIGNALS = [
  "HUP",
  "INT",
  "QUIT",
  "ILL",
  "TRAP",
  "ABRT",
  "BUS",
  "FPE",
  "KILL",
  "USR1",
  "SEGV",
  "USR2",
  "PIPE",
  "ALRM",
  "TERM",
  "STKFLT",
  "CHLD",
  "CONT",
  "STOP",
  "TSTP",
  "TTIN",
  "TTOU",
  "URG",
  "XCPU",
  "XFSZ",
  "VTALRM",
  "PROF",
  "WINCH",
  "IO",
  "PWR",
  "SYS",
];
const signalExpected = "expected a signal name such as SIGQUIT or SIGTERM";
/** `SIGQUIT` or `QUIT`, as SIGQUIT. */
const stopSignalSchema = z.string({ error: signalExpected }).transform((value, ctx) => {
  const name = value.replace(/^SIG/, "");
  if (SIGNALS.includes(name)) return `SIG${name}`;
  ctx.issues.push({ code: "custom", message: signalExpected, input: value });
  return z.NEVER;
});

export const RESERVED_LABEL =
  `expected a label not starting with "${CONDUCTOR_LABEL_PREFIX}": conductor sets ` +
  "conductor.service, conductor.slot and conductor.port itself, and they cannot be overridden";

const labelsSchema = z.record(
  z.string().refine((k) => k !== "" && noNul(k) && !k.startsWith(CONDUCTOR_LABEL_PREFIX), {
    error: (iss) =>
      typeof iss.input === "string" && iss.input.startsWith(CONDUCTOR_LABEL_PREFIX)
        ? RESERVED_LABEL
        : "expected a non-empty label name",
  }),
  textValue("a label value"),
  { error: "expected an object such as { team: payments }" },
);

const COMMAND_CHECK_KEYS = ["command", "timeout", "interval", "deadline"];
/** For services without http; an http service's check is http.healthCheck. */
const commandCheckSchema = z.strictObject(
  {
    command: list(arg, "expected a non-empty list of strings such as [bin/healthcheck]"),
    timeout: duration(1).default(DEFAULTS.healthCheck.timeoutMs),
    interval: duration(1).default(DEFAULTS.healthCheck.intervalMs),
    deadline: duration(1).default(DEFAULTS.healthCheck.deadlineMs),
  },
  {
    error: (iss) => {
      if (iss.code !== "unrecognized_keys")
        return "expected an object such as { command: [bin/healthcheck] }";
      const hint = iss.keys.includes("path")
        ? " (path is for http services: put it under http.healthCheck)"
        : "";
      return `expected one of: ${COMMAND_CHECK_KEYS.join(", ")}${hint}`;
    },
  },
);

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
  healthCheck: commandCheckSchema.optional(),
  stopTimeout: duration(0).default(DEFAULTS.stopTimeoutMs),
  stopSignal: stopSignalSchema.optional(),
  env: envSchema.optional(),
  volumes: z.array(volume, { error: `expected a list of volumes ${VOLUME_EXAMPLE}` }).optional(),
  resources: resourcesSchema.optional(),
  logging: loggingSchema.optional(),
  user: userSchema.optional(),
  labels: labelsSchema.optional(),
  cron: cronSchema.optional(),
  predeploy: predeploySchema.optional(),
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
