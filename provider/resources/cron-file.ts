// fleet:index:CronFile — /etc/cron.d/conductor-<id> on a host. Each deploy of
// a new revision updates it in place (the path is fixed by the service id):
// the host runs the app's generate-cron in that revision and wraps its jobs.
import type { CronInstallRequest, CronRemoveRequest } from "../../host/protocol";
import { reveal } from "../secrets";
import { conductor, type Connection } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

async function install(inputs: Record<string, unknown>): Promise<{ jobs: number }> {
  const request: CronInstallRequest = {
    serviceId: String(inputs.serviceId),
    image: String(inputs.image),
    revision: String(inputs.revision),
    env: reveal<Record<string, string> | undefined>(inputs.env) ?? {},
    generate: reveal<string[]>(inputs.generate),
    allowOverlap: inputs.allowOverlap === true,
  };
  return conductor(reveal<Connection>(inputs.connection), ["cron", "install"], request);
}

export const cronFileHandler: ResourceHandler = {
  diff: (olds, news) =>
    diffWith(olds, news, ["serviceId"], ["image", "revision", "env", "generate", "allowOverlap"]),

  async create(inputs) {
    const { jobs } = await install(inputs);
    return { id: `conductor-${inputs.serviceId}`, outs: { ...inputs, jobs } };
  },

  async update(_olds, news) {
    const { jobs } = await install(news);
    return { outs: { ...news, jobs } };
  },

  async delete(state) {
    const request: CronRemoveRequest = { serviceId: String(state.serviceId) };
    await conductor(reveal<Connection>(state.connection), ["cron", "remove"], request);
  },
};
