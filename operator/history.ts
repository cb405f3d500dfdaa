// The stack's releases, from its update history (`pulumi stack history --json
// --show-secrets`): each update records the config it ran with, so
// conductor:revision and the services' own revisions are there. Secrets are
// needed to read conductor:services at all (with a secret env value inside,
// Pulumi shows the whole key as `{"secret": true}`); only service names and
// revisions are kept from it, nothing else leaves this file.
import { REVISION } from "../protocol/rules";

export interface Update {
  /** Pulumi's version of the update; the file backend records none, then its place from the oldest (1). */
  version: number;
  /** Pulumi's words: update, refresh, destroy, ... */
  kind: string;
  /** succeeded, failed, in-progress */
  result: string;
  startTime: string;
  endTime?: string;
  /** conductor:revision of the update. */
  revision?: string;
  /** The services it deployed, with their own revision when they set one. */
  services: { name: string; revision?: string }[];
}

interface RawConfigValue {
  value?: string;
  objectValue?: unknown;
  secret?: boolean;
}

interface RawUpdate {
  version?: number;
  kind?: string;
  result?: string;
  startTime?: string;
  endTime?: string;
  config?: Record<string, RawConfigValue>;
}

function objectOf(entry: RawConfigValue | undefined): unknown {
  if (!entry) return undefined;
  if (entry.objectValue !== undefined) return entry.objectValue;
  try {
    return entry.value === undefined ? undefined : JSON.parse(entry.value);
  } catch {
    return undefined;
  }
}

function servicesOf(entry: RawConfigValue | undefined): Update["services"] {
  const services = objectOf(entry);
  if (!services || typeof services !== "object") return [];
  return Object.entries(services as Record<string, unknown>)
    .map(([name, s]) => {
      const revision = (s as { revision?: unknown } | null)?.revision;
      return typeof revision === "string" ? { name, revision } : { name };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Pulumi's history (newest first) as updates; anything else in it is left out. */
export function parseHistory(json: string): Update[] {
  const raw = JSON.parse(json) as RawUpdate[] | null;
  const all = raw ?? [];
  return all.map((u, i) => {
    const revision = u.config?.["conductor:revision"]?.value;
    return {
      version: u.version || all.length - i,
      kind: u.kind ?? "?",
      result: u.result ?? "?",
      startTime: u.startTime ?? "",
      endTime: u.endTime,
      revision: revision && REVISION.test(revision) ? revision : undefined,
      services: servicesOf(u.config?.["conductor:services"]),
    };
  });
}

export interface Release {
  revision: string;
  /** The revision of the newest successful update: what runs now. */
  current: boolean;
  /** Its newest update. */
  last: Update;
  /** Whether any update of it succeeded (only those are rollback targets). */
  succeeded: boolean;
  /** The version of its newest successful update. */
  lastSuccess?: number;
  /** Versions of the updates that deployed it, newest first. */
  versions: number[];
}

/** One release per revision, newest first, from updates (newest first) of kind update. */
export function releasesOf(updates: Update[]): Release[] {
  const deploys = updates.filter((u) => u.kind === "update" && u.revision !== undefined);
  const current = deploys.find((u) => u.result === "succeeded")?.revision;
  const releases = new Map<string, Release>();
  for (const u of deploys) {
    const r = releases.get(u.revision!);
    const ok = u.result === "succeeded";
    if (r) {
      r.versions.push(u.version);
      if (ok && !r.succeeded) r.lastSuccess = u.version;
      r.succeeded ||= ok;
    } else
      releases.set(u.revision!, {
        revision: u.revision!,
        current: u.revision === current,
        last: u,
        succeeded: ok,
        lastSuccess: ok ? u.version : undefined,
        versions: [u.version],
      });
  }
  return [...releases.values()];
}

/**
 * The revision a rollback goes to: of the successful updates before the
 * current one's, the newest of another revision (a later failed deploy of a
 * revision does not make it newer).
 */
export function previousRelease(releases: Release[]): Release | undefined {
  const now = releases.find((r) => r.current)?.lastSuccess ?? Infinity;
  return releases
    .filter((r) => !r.current && r.lastSuccess !== undefined && r.lastSuccess < now)
    .sort((a, b) => b.lastSuccess! - a.lastSuccess!)[0];
}
