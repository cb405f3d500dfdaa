// A Summary as the Markdown an operator reads at the top of a pull request's
// preview comment: warnings first, one table row per service and host.
import type { Effect } from "./changes";
import type { EnvChange } from "./env";
import type { HostNote, Row, Summary, Warning } from "./model";

const EFFECT_WORDS: Readonly<Record<Effect, string>> = {
  none: "unchanged",
  create: "added",
  update: "updated",
  replace: "replaced",
  delete: "removed",
};

/** Pulumi's change counts, in the order its own summary uses. */
const COUNT_ORDER = ["create", "update", "replace", "delete"];

export function renderMarkdown(summary: Summary): string {
  const blocks = [`#### Deploy summary: \`${summary.stack}\``];
  if (summary.errors > 0) {
    const errors = summary.errors === 1 ? "1 error" : `${summary.errors} errors`;
    blocks.push(`**The preview failed** (${errors}): see the raw preview below.`);
    return blocks.join("\n\n") + "\n";
  }
  const notes = [...summary.hosts.flatMap(hostLines), ...summary.others.map(otherLine)];
  if (summary.warnings.length > 0) blocks.push(summary.warnings.map(warningLine).join("\n"));
  if (summary.rows.length > 0) blocks.push(table(summary.rows));
  if (notes.length > 0) blocks.push(notes.map((n) => `- ${n}`).join("\n"));
  if (summary.warnings.length + summary.rows.length + notes.length === 0)
    blocks.push("No changes.");
  blocks.push(countsLine(summary.counts));
  return blocks.join("\n\n") + "\n";
}

function warningLine(w: Warning): string {
  switch (w.kind) {
    case "service-removed":
      return `- ⚠️ **Service \`${w.service}\` is removed**${stopping(w.containers, "")}.`;
    case "host-removed":
      return `- ⚠️ **Host \`${w.host}\` leaves the fleet**${stopping(w.containers, " there")}.`;
    case "stops":
      return `- ⚠️ **\`${w.service}\` stops on \`${w.host}\`**: replicas ${w.replicas} → 0.`;
    default: {
      const never: never = w;
      return never;
    }
  }
}

function stopping(containers: number, where: string): string {
  if (containers === 0) return "";
  return containers === 1
    ? `: 1 container stops${where}`
    : `: ${containers} containers stop${where}`;
}

function table(rows: Row[]): string {
  const also = rows.some((r) => r.also.length > 0);
  const header = [
    "service",
    "host",
    "revision",
    "replicas",
    "env",
    "files",
    ...(also ? ["also changes"] : []),
  ];
  const body = rows.map((r) => [
    r.service,
    r.host,
    fromTo(r.revisions.before.map(shortRevision), r.revisions.after.map(shortRevision)),
    fromTo([String(r.replicas.before)], [String(r.replicas.after)]),
    envCell(r.env),
    r.files.map((f) => `${f.kind} ${EFFECT_WORDS[f.effect]}`).join(", "),
    ...(also ? [r.also.map(code).join(", ")] : []),
  ]);
  return [header, header.map(() => "---"), ...body].map(tableLine).join("\n");
}

function tableLine(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
}

function code(text: string): string {
  return `\`${text}\``;
}

function shortRevision(revision: string): string {
  return code(revision.slice(0, 7));
}

/** `a` when nothing changes, `a → b` when it does; "—" stands for none. */
function fromTo(before: string[], after: string[]): string {
  const [b, a] = [before, after].map((list) => list.join(", ") || "—");
  return b === a ? b : `${b} → ${a}`;
}

function envCell(env: EnvChange): string {
  switch (env.kind) {
    case "same":
      return "";
    case "secret":
      return env.changed ? "env (secret) changed" : "env (secret)";
    case "keys":
      return [
        ["added", env.added],
        ["changed", env.changed],
        ["removed", env.removed],
      ]
        .filter(([, keys]) => keys.length > 0)
        .map(([word, keys]) => `${word} ${(keys as string[]).map(code).join(", ")}`)
        .join("; ");
    default: {
      const never: never = env;
      return never;
    }
  }
}

function hostLines(note: HostNote): string[] {
  const host = code(note.host);
  return [
    ...(note.added ? [`Host ${host} joins the fleet.`] : []),
    ...(note.commandUpdated ? [`Host ${host}: the \`conductor\` host command is updated.`] : []),
    ...(note.connectionChanged ? [`Host ${host}: how it is reached changes (no restart).`] : []),
  ];
}

function otherLine(other: Summary["others"][number]): string {
  return `${code(other.type)} ${code(other.name)} ${EFFECT_WORDS[other.effect]}.`;
}

function countsLine(counts: Record<string, number>): string {
  const ops = Object.keys(counts).filter((op) => op !== "same" && counts[op] > 0);
  ops.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const parts = ops.map((op) => `${counts[op]} to ${op}`);
  if (counts.same) parts.push(`${counts.same} unchanged`);
  return `<sub>Pulumi: ${parts.join(", ") || "nothing to do"}.</sub>`;
}

function rank(op: string): number {
  const i = COUNT_ORDER.indexOf(op);
  return i < 0 ? COUNT_ORDER.length : i;
}
