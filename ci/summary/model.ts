// What a deploy will do, per service and host, from a preview's changes:
// conductor's resource types and naming (components/) read back.
import { COMPONENT_TYPES, hostOfChildName, RESOURCE_TYPES } from "../../protocol/names";
import { type Change, changesOf, differingKeys, type Effect } from "./changes";
import { type Digest, type Inputs, isHidden, isRecord, urnStack } from "./digest";
import { envChange, type EnvChange } from "./env";

const STACK = "pulumi:pulumi:Stack";
const SERVICE = COMPONENT_TYPES.service;
const HOST = COMPONENT_TYPES.host;
const AGENT = RESOURCE_TYPES.agent;
const CONTAINER = RESOURCE_TYPES.container;
const RELEASE = RESOURCE_TYPES.release;
/** Children that are not files on the host (an image pull follows the revision column). */
const NOT_FILES: ReadonlySet<string> = new Set([CONTAINER, RELEASE, RESOURCE_TYPES.image]);
/** Container inputs with a column of their own; the rest of a replacement's reasons go to `also`. */
const SHOWN_INPUTS = new Set(["revision", "env", "connection", "slot"]);

export interface Row {
  service: string;
  host: string;
  revisions: { before: string[]; after: string[] };
  replicas: { before: number; after: number };
  env: EnvChange;
  /** Files on the host: nginx sites, cron files, any future per-service resource. */
  files: { kind: string; effect: Effect }[];
  /** Other changed inputs: `command`, `http`, `supervise`, ... */
  also: string[];
}

export type Warning =
  | { kind: "service-removed"; service: string; containers: number }
  | { kind: "host-removed"; host: string; containers: number }
  | { kind: "stops"; service: string; host: string; replicas: number };

export interface HostNote {
  host: string;
  added: boolean;
  commandUpdated: boolean;
  connectionChanged: boolean;
}

export interface Summary {
  stack: string;
  /** Error diagnostics: the preview failed and its changes are not the whole story. */
  errors: number;
  /** Pulumi's own count per op. */
  counts: Record<string, number>;
  warnings: Warning[];
  rows: Row[];
  hosts: HostNote[];
  /** Changed resources outside conductor's types. */
  others: { type: string; name: string; effect: Effect }[];
}

export function summarize(digest: Digest): Summary {
  const changes = changesOf(digest.steps);
  const services = new Map(changes.filter((c) => c.type === SERVICE).map((c) => [c.urn, c]));
  const rows = groupRows(changes, services);
  const removed = (type: string) =>
    changes.filter((c) => c.type === type && c.effect === "delete").map((c) => c.name);
  return {
    stack: urnStack(digest.steps[0]?.urn ?? ""),
    errors: digest.diagnostics.filter((d) => d.severity === "error").length,
    counts: digest.changeSummary,
    warnings: warningsOf(rows, removed(SERVICE), removed(HOST)),
    rows,
    hosts: hostNotes(changes),
    others: changes
      .filter((c) => c.effect !== "none" && !isKnownType(c) && !services.has(c.parent ?? ""))
      .map(({ type, name, effect }) => ({ type, name, effect })),
  };
}

function isKnownType(c: Change): boolean {
  return [STACK, SERVICE, HOST, AGENT].includes(c.type);
}

/** The host a service's child is on: its connection says, else its name (protocol/names.ts). */
function hostOf(child: Change, service: string): string {
  for (const inputs of [child.after, child.before]) {
    const connection = inputs?.connection;
    if (isRecord(connection) && typeof connection.host === "string") return connection.host;
  }
  return hostOfChildName(service, child.name);
}

function groupRows(changes: Change[], services: Map<string, Change>): Row[] {
  const groups = new Map<string, { service: string; host: string; children: Change[] }>();
  for (const child of changes) {
    const service = services.get(child.parent ?? "")?.name;
    if (service === undefined) continue;
    const host = hostOf(child, service);
    const key = JSON.stringify([service, host]);
    const group = groups.get(key) ?? { service, host, children: [] };
    group.children.push(child);
    groups.set(key, group);
  }
  return [...groups.values()]
    .filter((g) => g.children.some((c) => c.effect !== "none"))
    .map((g) => rowOf(g.service, g.host, g.children))
    .sort((a, b) => a.service.localeCompare(b.service) || a.host.localeCompare(b.host));
}

function rowOf(service: string, host: string, children: Change[]): Row {
  const containers = children.filter((c) => c.type === CONTAINER);
  const before = containers.flatMap((c) => (c.before ? [c.before] : []));
  const after = containers.flatMap((c) => (c.after ? [c.after] : []));
  return {
    service,
    host,
    revisions: { before: revisions(before), after: revisions(after) },
    replicas: { before: before.length, after: after.length },
    env: envChange(containers),
    files: children
      .filter((c) => !NOT_FILES.has(c.type) && c.effect !== "none")
      .map((c) => ({ kind: fileKind(c.type), effect: c.effect })),
    also: alsoChanged(children),
  };
}

function revisions(inputs: Inputs[]): string[] {
  const shown = inputs.map((i) => (isHidden(i.revision) ? "[secret]" : String(i.revision)));
  return [...new Set(shown)].sort();
}

/** `fleet:index:NginxSite` -> "nginx", `fleet:index:CronFile` -> "cron". */
function fileKind(type: string): string {
  const name = type.slice(type.lastIndexOf(":") + 1);
  return name.replace(/(Site|File)$/, "").toLowerCase() || type;
}

function alsoChanged(children: Change[]): string[] {
  const keys = new Set<string>();
  for (const c of children) {
    if (c.type === CONTAINER) c.reported.forEach((k) => keys.add(k));
    // A release changes with its containers; only its own settings are news.
    if (c.type === RELEASE && c.before && c.after) differingKeys(c).forEach((k) => keys.add(k));
  }
  return [...keys].filter((k) => !SHOWN_INPUTS.has(k) && k !== "containers").sort();
}

function warningsOf(rows: Row[], services: string[], hosts: string[]): Warning[] {
  const count = (pick: (r: Row) => boolean) =>
    rows.filter(pick).reduce((n, r) => n + r.replicas.before, 0);
  return [
    ...services.sort().map((service): Warning => {
      const containers = count((r) => r.service === service);
      return { kind: "service-removed", service, containers };
    }),
    ...hosts.sort().map((host): Warning => {
      const containers = count((r) => r.host === host);
      return { kind: "host-removed", host, containers };
    }),
    ...rows
      .filter((r) => r.replicas.before > 0 && r.replicas.after === 0)
      .filter((r) => !services.includes(r.service) && !hosts.includes(r.host))
      .map((r): Warning => {
        const { service, host, replicas } = r;
        return { kind: "stops", service, host, replicas: replicas.before };
      }),
  ];
}

function hostNotes(changes: Change[]): HostNote[] {
  const notes = new Map<string, HostNote>();
  const note = (host: string) => {
    const n = notes.get(host) ?? {
      host,
      added: false,
      commandUpdated: false,
      connectionChanged: false,
    };
    notes.set(host, n);
    return n;
  };
  for (const c of changes) {
    if (c.type === HOST && c.effect === "create") note(c.name).added = true;
    if (c.type === AGENT && c.effect === "update") {
      const keys = differingKeys(c);
      if (keys.includes("bundleSha256")) note(c.name).commandUpdated = true;
      if (keys.includes("connection")) note(c.name).connectionChanged = true;
    }
  }
  return [...notes.values()].sort((a, b) => a.host.localeCompare(b.host));
}
