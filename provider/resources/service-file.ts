// The shape shared by the resources that stand for one file of a service on a
// host (nginx site, cron file, release record): the path is fixed by the
// service id, so a change is applied in place by `conductor <kind> <apply>`,
// never by a replacement, whose late delete would remove what the update just
// wrote. A new service id is a new file: that one is replaced.
import { reveal } from "../secrets";
import type { Connection } from "../../protocol/connection";
import type { AnswerOf, HostCommand, RequestOf } from "../../protocol/requests";
import { conductor } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

/** Host commands that remove a service's file or record: they take only the service id. */
type RemoveCommand = "nginx remove" | "cron remove" | "release remove";

export interface ServiceFile<Apply extends HostCommand> {
  /** The host subcommands: e.g. "nginx apply" and "nginx remove". */
  apply: Apply;
  remove: RemoveCommand;
  /** Inputs whose change rewrites the file. */
  updateOn: readonly string[];
  /** The request for `apply`, from the inputs (secrets revealed). */
  request(inputs: Record<string, unknown>): RequestOf<Apply>;
  /** Outputs to add from apply's answer. */
  outputs?(result: AnswerOf<Apply>): Record<string, unknown>;
}

export function serviceFileHandler<Apply extends HostCommand>(
  file: ServiceFile<Apply>,
): ResourceHandler {
  const apply = async (inputs: Record<string, unknown>) => {
    const result = await conductor(
      reveal<Connection>(inputs.connection),
      file.apply,
      file.request(inputs),
    );
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return { ...inputs, ...file.outputs?.(result) };
  };
  return {
    diff: (olds, news) => diffWith(olds, news, ["serviceId"], file.updateOn),
    create: async (inputs) => ({ id: String(inputs.serviceId), outs: await apply(inputs) }),
    update: async (_olds, news) => ({ outs: await apply(news) }),
    async delete(state) {
      await conductor(reveal<Connection>(state.connection), file.remove, {
        serviceId: String(state.serviceId),
      });
    },
  };
}
