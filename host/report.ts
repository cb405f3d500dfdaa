// What `npx conductor status` and `releases` read from a host, as requests of
// protocol/requests.ts: the status of every service here, and which revisions
// of an image are here (a rollback to one of them pulls nothing).
import { type HostEffects, hostEffects } from "./effects";
import { collectStatus, type StatusEffects } from "./supervise/status";
import type { AnswerOf, RequestOf } from "../protocol/requests";

export async function statusReport(
  _req: RequestOf<"status report">,
  _log: unknown,
  fx: StatusEffects = hostEffects(),
): Promise<AnswerOf<"status report">> {
  return { services: await collectStatus(fx) };
}

export async function imageList(
  req: RequestOf<"image list">,
  _log: unknown,
  fx: Pick<HostEffects, "docker"> = hostEffects(),
): Promise<AnswerOf<"image list">> {
  return { tags: await fx.docker.imageTags(req.image) };
}
