// fleet:index:Predeploy — the service's predeploy command (migrations), run on
// the service's first host when its revision or image changes, before any new
// container of the service starts (components/service.ts orders it). Pulumi
// records it only once it succeeded: a failed or interrupted run is run again by
// the next `up`, so the command must be idempotent (as `rails db:migrate` is).
import { RESOURCE_TYPES } from "../../protocol/names";
import { predeployRequest } from "../../protocol/requests";
import { conductor, type RunOnHost } from "../transport";
import { changedKeys } from "./diff";
import { orDefault, read, withConnection } from "./read";
import type { ResourceHandler, Say } from "./types";

const TYPE = RESOURCE_TYPES.predeploy;
const inputs = withConnection(
  predeployRequest.extend({ env: orDefault(predeployRequest.shape.env, {}) }),
);

/**
 * A new revision (or image) runs it. A change of env, command, timeout or host
 * alone does not: it would rerun a migration of a revision already deployed.
 */
export const RUN_ON = ["image", "revision"] as const;

/** Runs it; its output goes to the deploy's output, as a migration's would in a terminal. */
async function runIt(raw: Record<string, unknown>, run: RunOnHost, say?: Say) {
  const { connection, request } = read(inputs, TYPE, "inputs", raw);
  const { output } = await conductor(connection, "predeploy run", request, run);
  await say?.(
    `host ${connection.host}: predeploy \`${request.command.join(" ")}\` succeeded` +
      (output ? `; its last lines:\n${output}` : ", and printed nothing"),
  );
  return request;
}

export const predeployHandler: ResourceHandler = {
  diff(olds, news) {
    const replaces = changedKeys(olds, news, ["serviceId"]);
    const updates = changedKeys(olds, news, RUN_ON);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(raw, run, say) {
    const request = await runIt(raw, run, say);
    // Outputs keep the inputs as the engine sent them, so the env stays secret.
    return { id: request.serviceId, outs: raw };
  },

  async update(_olds, news, run, say) {
    await runIt(news, run, say);
    return { outs: news };
  },

  // Nothing on the host to remove: the container went when the command ended.
  async delete() {},

  // Nothing on the host to read either: a migration leaves no trace conductor
  // could check (the database is the app's). The stored state is what ran.
  async read(id, state) {
    return { id, props: state };
  },
};
