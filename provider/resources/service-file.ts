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
  type ServiceRequest,
  serviceRequest,
} from "../../protocol/requests";
import { conductor, type RunOnHost } from "../transport";
import { diffWith } from "./diff";
import { askHost, DRIFT, GONE, observedState } from "./observed";
// The zod check of inputs and state (read.ts); `read` here is pulumi refresh's.
import { read as parseAs } from "./read";
import type { ResourceHandler } from "./types";

/** Host commands that remove a service's file or record: they take only the service id. */
type RemoveCommand = "nginx remove" | "cron remove" | "release remove";
/** Host commands whose request names the service, as every file's `apply` does. */
type ServiceCommand = {
  [C in HostCommand]: RequestOf<C> extends ServiceRequest ? C : never;
}[HostCommand];
/** Host commands that read a service's file or record as it is (pulumi refresh). */
type ReadCommand = Extract<ServiceCommand, "nginx read" | "cron read" | "release read">;

/** What a read found: nothing (GONE), or the inputs' values on the host and any drift. */
export type Observed = "gone" | { actual: Record<string, unknown>; drift?: string };

export interface ServiceFile<Apply extends ServiceCommand, Read extends ReadCommand> {
  type: ResourceType;
  /** The host subcommands: e.g. "nginx apply", "nginx remove" and "nginx read". */
  apply: Apply;
  remove: RemoveCommand;
  readCommand: Read;
  /** The inputs: the connection and `apply`'s request (see withConnection). */
  inputs: z.ZodType<{ connection: Connection; request: RequestOf<Apply> & ServiceRequest }>;
  /** Inputs whose change rewrites the file. */
  updateOn: readonly string[];
  /** Outputs to add from apply's answer. */
  outputs?(result: AnswerOf<Apply>): Record<string, unknown>;
  /** What else the provider does once apply succeeded. */
  applied?(connection: Connection, request: RequestOf<Apply>): void;
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

/** The inputs kept in the state; null is a field an earlier read found missing (observed.ts). */
function inputsOfState(state: Record<string, unknown>, outputKeys: readonly string[]) {
  return Object.fromEntries(
    Object.entries(state).filter(([k, v]) => k !== DRIFT && !outputKeys.includes(k) && v !== null),
  );
}

export function serviceFileHandler<Apply extends ServiceCommand, Read extends ReadCommand>(
  file: ServiceFile<Apply, Read>,
): ResourceHandler {
  const apply = async (raw: Record<string, unknown>, run: RunOnHost) => {
    const { connection, request } = parseAs(file.inputs, file.type, "inputs", raw);
    const result = await conductor(connection, file.apply, request, run);
    file.applied?.(connection, request);
    // Outputs keep the inputs as the engine sent them, so secrets stay wrapped.
    return { id: request.serviceId, outs: { ...raw, ...file.outputs?.(result) } };
  };
  return {
    diff: (olds, news) => diffWith(olds, news, ["serviceId"], file.updateOn),
    create: (inputs, run) => apply(inputs, run),
    update: async (_olds, news, run) => ({ outs: (await apply(news, run)).outs }),
    async delete(state, run) {
      const { connection, serviceId } = parseAs(stateToRemove, file.type, "state", state);
      await conductor(connection, file.remove, { serviceId }, run);
    },
    // Drift where diff looks (observed.ts): the host's values of the inputs,
    // or `drift`; a missing file or record reads as gone.
    async read(id, state, run, say) {
      const inputs = inputsOfState(state, file.outputKeys ?? []);
      const { connection, request } = parseAs(file.inputs, file.type, "state", inputs);
      // Each ReadCommand's request is a ServiceRequest (its type says so), but
      // TypeScript does not work out RequestOf<Read> of a type parameter.
      const ask = { serviceId: request.serviceId } as RequestOf<Read>;
      const answer = await askHost(file.type, connection, file.readCommand, ask, run, say);
      if (!answer) return { id, props: state };
      const observed = file.observe(answer, request, state);
      if (observed === "gone") return GONE;
      return { id, props: observedState(state, request, observed.actual, observed.drift) };
    },
  };
}
