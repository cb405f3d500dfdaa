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
import { askHost, DRIFT, GONE, observedState } from "./observed";
import { read } from "./read";
import type { ResourceHandler } from "./types";

/** Host commands that remove a service's file or record: they take only the service id. */
type RemoveCommand = "nginx remove" | "cron remove" | "release remove";
/** Host commands that read a service's file or record as it is (pulumi refresh). */
type ReadCommand = "nginx read" | "cron read" | "release read";

/** What a read found: nothing (GONE), or the inputs' values on the host and any drift. */
export type Observed = "gone" | { actual: Record<string, unknown>; drift?: string };

export interface ServiceFile<Apply extends HostCommand, Read extends ReadCommand> {
  type: ResourceType;
  /** The host subcommands: e.g. "nginx apply", "nginx remove" and "nginx read". */
  apply: Apply;
  remove: RemoveCommand;
  read: Read;
  /** The inputs: the connection and `apply`'s request (see withConnection). */
  inputs: z.ZodType<{ connection: Connection; request: RequestOf<Apply> }>;
  /** Inputs whose change rewrites the file. */
  updateOn: readonly string[];
  /** Outputs to add from apply's answer. */
  outputs?(result: AnswerOf<Apply>): Record<string, unknown>;
  /** The outputs' keys, which are no inputs: `outputs` adds them. */
  outputKeys?: readonly string[];
  /** What `read`'s answer says, against the stored request and state. */
  observe(
    answer: AnswerOf<Read>,
    stored: RequestOf<Apply>,
    state: Record<string, unknown>,
  ): Observed;
}

/** What deleting reads of the stored state; its other keys are not checked. */
const stateToRemove = z.object({ ...serviceRequest.shape, connection: connectionSchema });

export function serviceFileHandler<Apply extends HostCommand, Read extends ReadCommand>(
  file: ServiceFile<Apply, Read>,
): ResourceHandler {
  const apply = async (raw: Record<string, unknown>, run: RunOnHost) => {
    const { connection, request } = read(file.inputs, file.type, "inputs", raw);
    const result = await conductor(connection, file.apply, request, run);
    const { serviceId } = request as { serviceId: string };
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return { id: serviceId, outs: { ...raw, ...file.outputs?.(result) } };
  };
  // The inputs kept in the state; null is a field an earlier read found missing (observed.ts).
  const inputsOfState = (state: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(state).filter(
        ([k, v]) => k !== DRIFT && !file.outputKeys?.includes(k) && v !== null,
      ),
    );
  return {
    diff: (olds, news) => diffWith(olds, news, ["serviceId"], file.updateOn),
    create: (inputs, run) => apply(inputs, run),
    update: async (_olds, news, run) => ({ outs: (await apply(news, run)).outs }),
    async delete(state, run) {
      const { connection, serviceId } = read(stateToRemove, file.type, "state", state);
      await conductor(connection, file.remove, { serviceId }, run);
    },
    // Drift where diff looks (observed.ts): the host's values of the inputs,
    // or `drift`; a missing file or record reads as gone.
    async read(id, state, run, say) {
      const { connection, request } = read(file.inputs, file.type, "state", inputsOfState(state));
      const { serviceId } = request as { serviceId: string };
      const ask = { serviceId } as RequestOf<Read>;
      const answer = await askHost(file.type, connection, file.read, ask, run, say);
      if (!answer) return { id, props: state };
      const observed = file.observe(answer, request, state);
      if (observed === "gone") return GONE;
      const stored = request as Record<string, unknown>;
      return { id, props: observedState(state, stored, observed.actual, observed.drift) };
    },
  };
}
