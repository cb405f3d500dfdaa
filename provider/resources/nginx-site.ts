// fleet:index:NginxSite — a service's nginx file on a host. Its path is fixed by
// the service id, so a new config is an in-place update (never a replacement,
// whose late delete would remove the file the update just wrote).
import type { NginxApplyRequest, NginxRemoveRequest } from "../../host/protocol";
import { reveal } from "../secrets";
import { conductor, type Connection } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

async function apply(inputs: Record<string, unknown>): Promise<void> {
  const request: NginxApplyRequest = {
    serviceId: String(inputs.serviceId),
    config: String(inputs.config),
  };
  await conductor(reveal<Connection>(inputs.connection), ["nginx", "apply"], request);
}

export const nginxSiteHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, ["serviceId"], ["config"]),

  async create(inputs) {
    await apply(inputs);
    return { id: `conductor-${inputs.serviceId}`, outs: inputs };
  },

  async update(_olds, news) {
    await apply(news);
    return { outs: news };
  },

  async delete(state) {
    const request: NginxRemoveRequest = { serviceId: String(state.serviceId) };
    await conductor(reveal<Connection>(state.connection), ["nginx", "remove"], request);
  },
};
