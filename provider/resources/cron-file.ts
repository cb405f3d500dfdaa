// fleet:index:CronFile — /etc/cron.d/conductor-<id> on a host. Each deploy of
// a new revision rewrites it: the host runs the app's generate-cron in that
// revision and wraps its jobs (host/cron.ts).
import { z } from "zod";
import { RESOURCE_TYPES } from "../../protocol/names";
import { cronInstallRequest } from "../../protocol/requests";
import { orDefault, withConnection } from "./read";
import { serviceFileHandler } from "./service-file";

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
  outputs: ({ jobs }) => ({ jobs }),
});
