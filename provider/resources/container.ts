// fleet:index:Container — one deployed container. Any change to what runs
// replaces it, and Pulumi replaces create-first: the new container is started
// and healthy before anything that depends on it changes, and the old one is
// stopped at the very end of the deploy.
import { z } from "zod";
import { connectionSchema } from "../../protocol/connection";
import { RESOURCE_TYPES } from "../../protocol/names";
import { containerSpec, containerStopRequest } from "../../protocol/requests";
import { conductor, type RunOnHost } from "../transport";
import { diffWith } from "./diff";
import { askHost, DRIFT, GONE, hasDrift, withoutDrift } from "./observed";
import { orDefault, read, connectionOnly, withConnection } from "./read";
import { removedByRelease } from "./released";
import type { ResourceHandler } from "./types";

const TYPE = RESOURCE_TYPES.container;

/** Every key of the spec: a change to any of them is a new container. */
const SPEC_KEYS = Object.keys(containerSpec.shape);

/** The spec and the connection; no env is an empty one. */
const inputs = withConnection(
  containerSpec.extend({ env: orDefault(containerSpec.shape.env, {}) }),
);

/**
 * What deleting reads of the stored state: the container's name (an output of
 * create) and how to stop it. Other keys of the state are not checked, so a
 * state written by an older provider can still be deleted.
 */
const stateToStop = z.object({ ...containerStopRequest.shape, connection: connectionSchema });

/** What reading asks the host about: the container's name and service. */
const stateToRead = z.object({
  serviceId: containerStopRequest.shape.serviceId,
  name: containerStopRequest.shape.name,
  connection: connectionSchema,
});

/** Starts it (or finds it running) and waits until it is healthy: `conductor container up`. */
async function start(raw: Record<string, unknown>, run: RunOnHost) {
  const { connection, request } = read(inputs, TYPE, "inputs", raw);
  const started = await conductor(connection, "container up", request, run);
  // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
  return {
    id: started.name,
    outs: { ...raw, name: started.name, hostPort: started.hostPort ?? null },
  };
}

export const containerHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, SPEC_KEYS, []),

  create: (raw, run) => start(raw, run),

  // Without a replacement (see diff) only the connection changes, and nothing
  // runs; or a refresh found the container stopped, and `container up` starts
  // it again under the same name and port (a replacement could not: the new
  // container would have the old one's name, which the old one's delete removes).
  async update(olds, news, run) {
    if (hasDrift(olds)) return { outs: (await start(news, run)).outs };
    read(connectionOnly, TYPE, "inputs", news);
    return { outs: { ...olds, connection: news.connection } };
  },

  // Gone when Docker has no such container (refresh drops it, the next `up`
  // creates it, create-first as ever); drift when it does not run. Its spec is
  // not read back: the name is a fingerprint of the spec (host/naming.ts).
  async read(id, state, run, say) {
    const { connection, serviceId, name } = read(stateToRead, TYPE, "state", state);
    const answer = await askHost(TYPE, connection, "container read", { serviceId, name }, run, say);
    if (!answer) return { id, props: state };
    if (!answer.container) return GONE;
    const { state: dockerState, hostPort } = answer.container;
    return {
      id,
      props: {
        ...withoutDrift(state),
        ...(hostPort !== undefined && { hostPort }),
        ...(dockerState !== "running" && {
          [DRIFT]: `Docker has the container ${dockerState}, not running`,
        }),
      },
    };
  },

  // Usually the release of this deploy has already stopped and removed it.
  async delete(state, run) {
    const { connection, ...request } = read(stateToStop, TYPE, "state", state);
    if (removedByRelease(connection, request.serviceId, request.name)) return;
    await conductor(connection, "container down", request, run);
  },
};
