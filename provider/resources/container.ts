// fleet:index:Container — one deployed container. Any change to what runs
// replaces it, and Pulumi replaces create-first: the new container is started
// and healthy before anything that depends on it changes, and the old one is
// stopped at the very end of the deploy.
import type { ContainerSpec, ContainerStopRequest } from "../../protocol/requests";
import { reveal } from "../secrets";
import type { Connection } from "../../protocol/connection";
import { conductor } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

const SPEC_KEYS = [
  "serviceId",
  "slot",
  "image",
  "revision",
  "command",
  "env",
  "http",
  "stopTimeoutMs",
] as const;

function specOf(inputs: Record<string, unknown>): ContainerSpec {
  const spec = reveal<ContainerSpec>(Object.fromEntries(SPEC_KEYS.map((k) => [k, inputs[k]])));
  return { ...spec, env: spec.env ?? {} };
}

export const containerHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, SPEC_KEYS, []),

  async create(inputs) {
    const conn = reveal<Connection>(inputs.connection);
    const started = await conductor(conn, "container up", specOf(inputs));
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return {
      id: started.name,
      outs: { ...inputs, name: started.name, hostPort: started.hostPort ?? null },
    };
  },

  async update(olds, news) {
    return { outs: { ...olds, connection: news.connection } };
  },

  async delete(state) {
    const conn = reveal<Connection>(state.connection);
    const request: ContainerStopRequest = {
      serviceId: String(state.serviceId),
      name: String(state.name),
      stopTimeoutMs: Number(state.stopTimeoutMs),
    };
    await conductor(conn, "container down", request);
  },
};
