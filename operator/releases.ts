// `npx conductor releases --stack S`: the stack's revisions, newest first,
// from its update history, the current one marked, and whether each
// revision's images are still on every host of the services that would run
// it (then a rollback to it pulls nothing).
import type { Fleet } from "../config/model";
import { type Release, previousRelease } from "./history";
import type { Reached } from "./hosts";
import { formatTable, shortTime } from "./table";

/** The tags of each image on one host, by image. */
export type HostImages = Record<string, string[]>;

/** For a revision: the hosts (of services following conductor:revision) without its image. */
export function imagesWhere(
  fleet: Fleet,
  pinned: Record<string, string>,
  revision: string,
  images: Reached<HostImages>[],
): string {
  const missing = new Set<string>();
  const unknown = new Set<string>();
  for (const s of fleet.services.filter((s) => !(s.name in pinned))) {
    for (const host of s.hosts) {
      const answer = images.find((i) => i.host === host);
      if (!answer || !answer.ok) unknown.add(host);
      else if (!(answer.value[s.image] ?? []).includes(revision)) missing.add(host);
    }
  }
  const parts = [
    ...(missing.size ? [`missing on ${[...missing].sort().join(", ")}`] : []),
    ...(unknown.size ? [`${[...unknown].sort().join(", ")} not reached`] : []),
  ];
  return parts.length ? parts.join("; ") : "on every host";
}

function servicesCell(r: Release): string {
  return (
    r.last.services.map((s) => (s.revision ? `${s.name}@${s.revision}` : s.name)).join(", ") || "-"
  );
}

export function formatReleases(
  stack: string,
  releases: Release[],
  images: (revision: string) => string,
): string {
  if (releases.length === 0) return `no deploys of stack ${stack} in its history\n`;
  const rows = [["", "REVISION", "DEPLOYED", "UPDATE", "RESULT", "SERVICES", "IMAGES"]];
  for (const r of releases)
    rows.push([
      r.current ? "*" : "",
      r.revision,
      shortTime(r.last.endTime ?? r.last.startTime),
      `${r.last.version}`,
      r.last.result,
      servicesCell(r),
      images(r.revision),
    ]);
  const previous = previousRelease(releases);
  const footer = [
    "* deployed now. Services shown as name@sha set their own revision.",
    previous
      ? `npx conductor rollback --stack ${stack} deploys ${previous.revision}, the previous successful revision.`
      : "No earlier successful revision to roll back to.",
  ];
  return `${[...formatTable(rows), "", ...footer].join("\n")}\n`;
}
