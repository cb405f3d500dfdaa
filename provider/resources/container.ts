// fleet:index:Container — one deployed container. Any change to what runs
// replaces it, and Pulumi replaces create-first: the new container is started
// and healthy before anything that depends on it changes, and the old one is
// stopped at the very end of the deploy.
import { z } from "zod";
import { connectionSchema } from "../../protocol/connection";
import { RESOURCE_TYPES } from "../../protocol/names";
import { containerSpec, containerStopRequest } from "../../protocol/requests";
import { conductor } from "../transport";
import { diffWith } from "./diff";
import { orDefault, read, connectionOnly, withConnection } from "./read";
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

export const containerHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, SPEC_KEYS, []),

  async create(raw, run) {
    const { connection, request } = read(inputs, TYPE, "inputs", raw);
    const started = await conductor(connection, "container up", request, run);
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return {
      id: started.name,
      outs: { ...raw, name: started.name, hostPort: started.hostPort ?? null },
    };
  },

  // Only the connection can change without a replacement (see diff): nothing runs.
  async update(olds, news) {
    read(connectionOnly, TYPE, "inputs", news);
    return { outs: { ...olds, connection: news.connection } };
  },

  async delete(state, run) {
    const { connection, ...request } = read(stateToStop, TYPE, "state", state);
    await conductor(connection, "container down", request, run);
  },
};
