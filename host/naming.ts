// Each running deployed container has a record on the host: its spec, name and
// port. The supervisor and `conductor run` read them; they hold the service's
// env, secrets included, so the directory and files are root-only.
import * as fs from "node:fs";
import * as crypto from "node:crypto";
import { containerRecord, containersDir, saltFile, STATE_DIR } from "./paths";
import type { ContainerSpec } from "../protocol/requests";

export interface ContainerRecord {
  name: string;
  hostPort?: number;
  spec: ContainerSpec;
}

export function ensureStateDirs(): void {
  for (const dir of [STATE_DIR, containersDir()])
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Write to a temporary file and rename it, so a reader never sees half a file. */
export function writeFileAtomic(path: string, content: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, path);
}

export function writeRecord(record: ContainerRecord): void {
  ensureStateDirs();
  writeFileAtomic(containerRecord(record.name), JSON.stringify(record, null, 2), 0o600);
}

export function removeRecord(name: string): void {
  fs.rmSync(containerRecord(name), { force: true });
}

/** Every `*.json` file of a directory, parsed; none when it does not exist. */
export function readJsonFiles<T>(dir: string): T[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")) as T);
}

/** One container's record, if the deploy finished it (and has not begun to stop it). */
export function readRecord(name: string): ContainerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(containerRecord(name), "utf8")) as ContainerRecord;
  } catch {
    return undefined;
  }
}

export function readRecords(): ContainerRecord[] {
  return readJsonFiles<ContainerRecord>(containersDir());
}

/**
 * A per-host secret, so container names can be derived from a spec that holds
 * secrets without revealing anything about them.
 */
function hostSalt(): Buffer {
  ensureStateDirs();
  try {
    return fs.readFileSync(saltFile());
  } catch {
    fs.writeFileSync(saltFile(), crypto.randomBytes(32), { mode: 0o600, flag: "wx" });
    return fs.readFileSync(saltFile());
  }
}

/** Stable JSON: object keys sorted, so equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The container's name: the service id, the replica slot, and a fingerprint of
 * the whole spec. A changed spec gets a new name, so the new container never
 * collides with the old one it replaces; an unchanged spec gets the same name,
 * so a deploy that was interrupted and is run again finds its container.
 */
export function containerName(spec: ContainerSpec): string {
  const fingerprint = crypto
    .createHmac("sha256", hostSalt())
    .update(canonicalJson(spec))
    .digest("hex");
  return `${spec.serviceId}-${spec.slot}-${fingerprint.slice(0, 10)}`;
}
