// fleet:index:Release — what a service runs on a host and which containers
// make up its current release. Written after nginx points at them; applying
// it stops any other container of the service (see host/release.ts).
import { z } from "zod";
import { RESOURCE_TYPES } from "../../protocol/names";
import { releaseRequest, runtimeShape } from "../../protocol/requests";
import { orDefault, withConnection } from "./read";
import { serviceFileHandler } from "./service-file";

const { command, env } = releaseRequest.shape;

export const releaseHandler = serviceFileHandler({
  type: RESOURCE_TYPES.release,
  apply: "release apply",
  remove: "release remove",
  // Where the engine sent nothing: no command, no env, and supervised.
  inputs: withConnection(
    releaseRequest.extend({
      command: z.preprocess((v) => v ?? undefined, command),
      env: orDefault(env, {}),
      supervise: orDefault(z.boolean(), true),
    }),
  ),
  updateOn: [
    "image",
    "revision",
    "command",
    "env",
    "containers",
    "supervise",
    ...Object.keys(runtimeShape),
  ],
});
