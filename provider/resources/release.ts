// fleet:index:Release — what a service runs on a host and which containers
// make up its current release. Written after nginx points at them; applying
// it stops any other container of the service (see host/release.ts).
import { z } from "zod";
import { RESOURCE_TYPES } from "../../protocol/names";
import { releaseRequest, runtimeShape } from "../../protocol/requests";
import { orDefault, withConnection } from "./read";
import { releaseApplied } from "./released";
import { serviceFileHandler } from "./service-file";

const { command, env } = releaseRequest.shape;

/** Every field of the record: one the host's record lacks reads as null. */
const RECORD_KEYS = Object.keys(releaseRequest.shape) as (keyof typeof releaseRequest.shape)[];

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
  // The record as it is: each field that differs shows as that input's diff
  // (env stays secret), one that cannot be read as drift; `up` rewrites it.
  // Pulumi's deletes of these, later in this deploy, need not reach the host.
  applied: (connection, request) =>
    releaseApplied(connection, request.serviceId, request.containers),
  readCommand: "release read",
  observe({ release, problem }) {
    if (problem !== undefined) return { actual: {}, drift: problem };
    if (release === null) return "gone";
    return { actual: Object.fromEntries(RECORD_KEYS.map((k) => [k, release[k]])) };
  },
});
