// `conductor <kind> read`: what this host really has of one of a service's
// resources, for `pulumi refresh` (the provider's `read`; README: "Drift and
// `pulumi refresh`"). Each reads and answers; none changes anything. Files
// need no lock: a read racing a write sees the file before or after its
// atomic rename. A container does: the supervisor removes and re-creates one
// under the service's lock (supervise/loop.ts), so `container read` inspects
// under that lock, and sees the container before or after, never missing in
// between. A refresh is not run beside a deploy of the same stack (Pulumi
// locks the stack).
import * as crypto from "node:crypto";
import { cronFileName } from "./crontab";
import { type HostEffects, hostEffects } from "./effects";
import { confName } from "./nginx";
import { withoutHolds } from "./nginx-holds";
import { LABELS, LOCKS } from "./store";
import { type AnswerOf, type RequestOf, releaseRequest } from "../protocol/requests";

/** The container, if there is one of that name and it is the service's. */
export async function containerRead(
  req: RequestOf<"container read">,
  _log?: unknown,
  fx: Pick<HostEffects, "docker" | "locks"> = hostEffects(),
): Promise<AnswerOf<"container read">> {
  const inspect = () => fx.docker.inspectContainer(req.name);
  const found = await fx.locks.hold(LOCKS.service(req.serviceId), inspect);
  if (!found || found.labels[LABELS.service] !== req.serviceId) return { container: null };
  const port = Number(found.labels[LABELS.port]);
  return {
    container: {
      state: found.status,
      ...(Number.isInteger(port) && port > 0 && { hostPort: port }),
    },
  };
}

/**
 * Whether Docker has the revision's image, asked by that exact reference:
 * Docker resolves the name, so an image configured as `docker.io/library/x`
 * or `index.docker.io/library/x` is found though Docker lists it as `x`.
 */
export async function imageRead(
  req: RequestOf<"image read">,
  _log?: unknown,
  fx: Pick<HostEffects, "docker"> = hostEffects(),
): Promise<AnswerOf<"image read">> {
  return { present: await fx.docker.imageExists(`${req.image}:${req.revision}`) };
}

export async function nginxRead(
  req: RequestOf<"nginx read">,
  _log?: unknown,
  fx: Pick<HostEffects, "nginxConfDir"> = hostEffects(),
): Promise<AnswerOf<"nginx read">> {
  // A replica the supervisor holds out until healthy (nginx-holds.ts) is not
  // drift: the file is compared as the deploy wrote it.
  const file = fx.nginxConfDir.read(confName(req.serviceId));
  return { config: file === undefined ? null : withoutHolds(file) };
}

/**
 * A hash, not the file: the deploy stored the hash of what it wrote (the file
 * is built here from generate-cron's output, so the deploy never had it).
 */
export async function cronRead(
  req: RequestOf<"cron read">,
  _log?: unknown,
  fx: Pick<HostEffects, "cronDir"> = hostEffects(),
): Promise<AnswerOf<"cron read">> {
  const file = fx.cronDir.read(cronFileName(req.serviceId));
  return { sha256: file === undefined ? null : sha256(file) };
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The record as a release request. A record that cannot be read or is not one
 * conductor writes is a `problem` for the deploy to repair (it rewrites the
 * record), not a failed refresh; the message names fields, never values.
 */
export async function releaseRead(
  req: RequestOf<"release read">,
  _log?: unknown,
  fx: Pick<HostEffects, "store"> = hostEffects(),
): Promise<AnswerOf<"release read">> {
  const record = fx.store.readRelease(req.serviceId);
  if (record.status === "missing") return { release: null };
  if (record.status !== "ok") return { release: null, problem: record.message };
  const checked = releaseRequest.safeParse(record.value);
  if (checked.success) return { release: checked.data };
  const fields = checked.error.issues.map((i) => i.path.join(".") || "(the whole record)");
  const file = fx.store.releaseFile(req.serviceId);
  return {
    release: null,
    problem: `${file} is not a release conductor writes: ${fields.join(", ")}`,
  };
}
