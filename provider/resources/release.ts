// fleet:index:Release — which containers make up a service's release on a
// host. Written after nginx points at them; applying it stops any other
// container of the service (see host/release.ts). An in-place update: the
// file's path is fixed by the service id.
import type { ReleaseRemoveRequest, ReleaseRequest } from "../../host/protocol";
import { reveal } from "../secrets";
import { conductor, type Connection } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

async function apply(inputs: Record<string, unknown>): Promise<void> {
  const request: ReleaseRequest = {
    serviceId: String(inputs.serviceId),
    image: String(inputs.image),
    revision: String(inputs.revision),
    command: reveal<string[] | undefined>(inputs.command) ?? undefined,
    env: reveal<Record<string, string> | undefined>(inputs.env) ?? {},
    containers: reveal<string[]>(inputs.containers),
    supervise: inputs.supervise !== false,
  };
  await conductor(reveal<Connection>(inputs.connection), ["release", "apply"], request);
}

export const releaseHandler: ResourceHandler = {
  diff: (olds, news) =>
    diffWith(
      olds,
      news,
      ["serviceId"],
      ["image", "revision", "command", "env", "containers", "supervise"],
    ),

  async create(inputs) {
    await apply(inputs);
    return { id: String(inputs.serviceId), outs: inputs };
  },

  async update(_olds, news) {
    await apply(news);
    return { outs: news };
  },

  async delete(state) {
    const request: ReleaseRemoveRequest = { serviceId: String(state.serviceId) };
    await conductor(reveal<Connection>(state.connection), ["release", "remove"], request);
  },
};
