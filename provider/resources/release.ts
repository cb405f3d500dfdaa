// fleet:index:Release — what a service runs on a host and which containers
// make up its current release. Written after nginx points at them; applying
// it stops any other container of the service (see host/release.ts).
import type { ReleaseRequest } from "../../protocol/requests";
import { reveal } from "../secrets";
import { serviceFileHandler } from "./service-file";

export const releaseHandler = serviceFileHandler({
  apply: "release apply",
  remove: "release remove",
  updateOn: ["image", "revision", "command", "env", "containers", "supervise"],
  request: (inputs): ReleaseRequest => ({
    serviceId: String(inputs.serviceId),
    image: String(inputs.image),
    revision: String(inputs.revision),
    command: reveal<string[] | undefined>(inputs.command) ?? undefined,
    env: reveal<Record<string, string> | undefined>(inputs.env) ?? {},
    containers: reveal<string[]>(inputs.containers),
    supervise: inputs.supervise !== false,
  }),
});
