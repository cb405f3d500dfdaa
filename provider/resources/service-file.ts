// The shape shared by the resources that stand for one file of a service on a
// host (nginx site, cron file, release record): the path is fixed by the
// service id, so a change is applied in place by `conductor <kind> <apply>`,
// never by a replacement, whose late delete would remove what the update just
// wrote. A new service id is a new file: that one is replaced.
import { z } from "zod";
import { type Connection, connectionSchema } from "../../protocol/connection";
import type { ResourceType } from "../../protocol/names";
import {
  type AnswerOf,
  type HostCommand,
  type RequestOf,
  serviceRequest,
} from "../../protocol/requests";
import { conductor, type RunOnHost } from "../transport";
import { diffWith } from "./diff";
import { read } from "./read";
import type { ResourceHandler } from "./types";

/** Host commands that remove a service's file or record: they take only the service id. */
type RemoveCommand = "nginx remove" | "cron remove" | "release remove";

export interface ServiceFile<Apply extends HostCommand> {
  type: ResourceType;
  /** The host subcommands: e.g. "nginx apply" and "nginx remove". */
  apply: Apply;
  remove: RemoveCommand;
  /** The inputs: the connection and `apply`'s request (see withConnection). */
  inputs: z.ZodType<{ connection: Connection; request: RequestOf<Apply> }>;
  /** Inputs whose change rewrites the file. */
  updateOn: readonly string[];
  /** Outputs to add from apply's answer. */
  outputs?(result: AnswerOf<Apply>): Record<string, unknown>;
}

/** What deleting reads of the stored state; its other keys are not checked. */
const stateToRemove = z.object({ ...serviceRequest.shape, connection: connectionSchema });

export function serviceFileHandler<Apply extends HostCommand>(
  file: ServiceFile<Apply>,
): ResourceHandler {
  const apply = async (raw: Record<string, unknown>, run: RunOnHost) => {
    const { connection, request } = read(file.inputs, file.type, "inputs", raw);
    const result = await conductor(connection, file.apply, request, run);
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return { id: request.serviceId, outs: { ...raw, ...file.outputs?.(result) } };
  };
  return {
    diff: (olds, news) => diffWith(olds, news, ["serviceId"], file.updateOn),
    create: (inputs, run) => apply(inputs, run),
    update: async (_olds, news, run) => ({ outs: (await apply(news, run)).outs }),
    async delete(state, run) {
      const { connection, serviceId } = read(stateToRemove, file.type, "state", state);
      await conductor(connection, file.remove, { serviceId }, run);
    },
  };
}
