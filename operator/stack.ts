// Reads a stack's config through the Pulumi CLI, as the deploy sees it, and
// turns it into the fleet model with the same validation.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { formatIssues, loadFleet } from "../config/load";
import type { Fleet } from "../config/model";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

interface ConfigEntry {
  value?: string;
  secret: boolean;
}

/** `--config-file <file>` for pulumi commands that read config, when the stack has its own file. */
export const configFileArgs = (configFile?: string) =>
  configFile ? ["--config-file", configFile] : [];

function pulumiConfig(stack: string, configFile?: string): Record<string, ConfigEntry> {
  const result = spawnSync(
    "pulumi",
    ["config", "--stack", stack, ...configFileArgs(configFile), "--show-secrets", "--json"],
    {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    },
  );
  if (result.error) throw new Error(`cannot run pulumi: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`pulumi config -s ${stack} failed:\n${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as Record<string, ConfigEntry>;
}

export interface StackConfig {
  fleet: Fleet;
  privateKey?: string;
  /** Services that set their own `revision` (a rollback leaves them alone), by name. */
  pinned: Record<string, string>;
}

/** The services of a raw conductor:services value that set their own revision. */
export function pinnedRevisions(services: unknown): Record<string, string> {
  if (!services || typeof services !== "object") return {};
  return Object.fromEntries(
    Object.entries(services as Record<string, unknown>).flatMap(([name, s]) => {
      const revision = (s as { revision?: unknown } | null)?.revision;
      return typeof revision === "string" ? [[name, revision]] : [];
    }),
  );
}

export function readStack(stack: string, configFile?: string): StackConfig {
  const config = pulumiConfig(stack, configFile);
  const raw = (key: string) => config[`conductor:${key}`]?.value;
  const json = (key: string) => (raw(key) === undefined ? undefined : JSON.parse(raw(key)!));
  const result = loadFleet({
    project: "conductor",
    stack,
    app: raw("app"),
    revision: raw("revision"),
    hosts: json("hosts"),
    services: json("services"),
    registries: json("registries"),
    keys: Object.keys(config)
      .filter((k) => k.startsWith("conductor:"))
      .map((k) => k.slice("conductor:".length)),
    secretKeys: new Set(Object.keys(config).filter((k) => config[k].secret)),
  });
  if (!result.ok) throw new Error(formatIssues(result.issues));
  return {
    fleet: result.fleet,
    privateKey: raw("sshPrivateKey"),
    pinned: pinnedRevisions(json("services")),
  };
}
