// fleet:index:CronFile — /etc/cron.d/conductor-<id> on a host. Each deploy of
// a new revision rewrites it: the host runs the app's generate-cron in that
// revision and wraps its jobs (host/cron.ts).
import type { CronInstallRequest } from "../../protocol/requests";
import { reveal } from "../secrets";
import { serviceFileHandler } from "./service-file";

export const cronFileHandler = serviceFileHandler({
  apply: "cron install",
  remove: "cron remove",
  updateOn: ["image", "revision", "env", "generate", "allowOverlap"],
  request: (inputs): CronInstallRequest => ({
    serviceId: String(inputs.serviceId),
    image: String(inputs.image),
    revision: String(inputs.revision),
    env: reveal<Record<string, string> | undefined>(inputs.env) ?? {},
    generate: reveal<string[]>(inputs.generate),
    allowOverlap: inputs.allowOverlap === true,
  }),
  outputs: ({ jobs }) => ({ jobs }),
});
