// fleet:index:Image — the image of a service's revision on one host, pulled
// with its registry's credentials. Every container of the service, on every
// host, depends on every host's Image: a pull that fails fails the deploy
// before any new container starts anywhere. A new revision is an update (the
// host pulls it); deleting leaves the image on the host, so that a rollback
// needs no pull.
import { RESOURCE_TYPES } from "../../protocol/names";
import { imagePullRequest } from "../../protocol/requests";
import { conductor, type RunOnHost } from "../transport";
import { diffWith } from "./diff";
import { askHost, GONE } from "./observed";
import { read, withConnection } from "./read";
import type { ResourceHandler } from "./types";

const TYPE = RESOURCE_TYPES.image;
const inputs = withConnection(imagePullRequest);

async function pull(raw: Record<string, unknown>, run: RunOnHost) {
  const { connection, request } = read(inputs, TYPE, "inputs", raw);
  await conductor(connection, "image pull", request, run);
  return request;
}

export const imageHandler: ResourceHandler = {
  diff: (olds, news) =>
    diffWith(olds, news, ["serviceId"], ["image", "revision", "registry", "auth"]),

  async create(raw, run) {
    const request = await pull(raw, run);
    // Outputs keep the inputs as the engine sent them, so the credentials stay secret.
    return { id: request.serviceId, outs: raw };
  },

  async update(_olds, news, run) {
    await pull(news, run);
    return { outs: news };
  },

  // Images stay: the previous revision's is what a rollback starts from.
  async delete() {},

  // Gone when the host no longer has the revision's image (the next `up`
  // pulls it). Asked by reference, not by listing tags: Docker lists
  // `docker.io/library/nginx` as `nginx` (host/read.ts imageRead).
  async read(id, state, run, say) {
    const { connection, request } = read(inputs, TYPE, "state", state);
    const { serviceId, image, revision } = request;
    const ask = { serviceId, image, revision };
    const answer = await askHost(TYPE, connection, "image read", ask, run, say);
    if (!answer) return { id, props: state };
    return answer.present ? { id, props: state } : GONE;
  },
};
