// Deployed containers' names: a fingerprint of the whole spec, keyed by the
// host's salt (store.ts), so an unchanged spec finds its container again and
// a name reveals nothing about the env it was made from.
import * as crypto from "node:crypto";
import type { ContainerSpec } from "../protocol/requests";

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
export function containerName(spec: ContainerSpec, salt: Buffer): string {
  const fingerprint = crypto.createHmac("sha256", salt).update(canonicalJson(spec)).digest("hex");
  return `${spec.serviceId}-${spec.slot}-${fingerprint.slice(0, 10)}`;
}
