// fleet:index:CronFile — /etc/cron.d/conductor-<id> on a host. Each deploy of
// a new revision rewrites it: the host runs the app's generate-cron in that
// revision and wraps its jobs (host/cron.ts).
import { z } from "zod";
import { RESOURCE_TYPES } from "../../protocol/names";
import { cronInstallRequest } from "../../protocol/requests";
import { orDefault, withConnection } from "./read";
import { serviceFileHandler } from "./service-file";

const short = (sha: string) => sha.slice(0, 12);

export const cronFileHandler = serviceFileHandler({
  type: RESOURCE_TYPES.cronFile,
  apply: "cron install",
  remove: "cron remove",
  // Where the engine sent nothing: no env, and no overlapping runs.
  inputs: withConnection(
    cronInstallRequest.extend({
      env: orDefault(cronInstallRequest.shape.env, {}),
      allowOverlap: orDefault(z.boolean(), false),
    }),
  ),
  updateOn: ["image", "revision", "env", "generate", "allowOverlap"],
  // The host builds the file from generate-cron's output, so the deploy keeps
  // the hash of what was written (`cron install` answers it) for refresh to
  // compare. A hash, not the file: the app prints its lines, and they may
  // hold what its env holds.
  readCommand: "cron read",
  outputs: ({ jobs, sha256 }) => ({ jobs, fileSha256: sha256 }),
  outputKeys: ["jobs", "fileSha256"],
  observe({ sha256 }, _stored, state) {
    if (sha256 === null) return "gone";
    const written = state.fileSha256;
    // A state from before fileSha256 existed: only a missing file can be told.
    if (typeof written !== "string" || written === sha256) return { actual: {} };
    return {
      actual: {},
      drift: `the cron file is not the one conductor wrote (SHA-256 ${short(sha256)}…, written ${short(written)}…)`,
    };
  },
});
