// Every handler reads what the engine sent through a zod schema: the inputs of
// this deploy, or the state stored by the last one. The schemas are the
// protocol's requests plus the connection, so what reaches a host is checked
// here first.
import { z } from "zod";
import { type Connection, connectionSchema } from "../../protocol/connection";
import type { ResourceType } from "../../protocol/names";
import { check } from "../../protocol/requests";
import { reveal } from "../secrets";

/**
 * Reveals the secrets in `value` and parses it with `schema`. A malformed value
 * fails naming the resource type and the field, never the value (values may be
 * secrets).
 */
export function read<S extends z.ZodType>(
  schema: S,
  type: ResourceType,
  what: "inputs" | "state",
  value: Record<string, unknown>,
): z.output<S> {
  return check(schema, reveal(value), `${type}: invalid ${what}`) as z.output<S>;
}

/**
 * A request schema plus the connection, parsed apart: `{ connection, request }`.
 * Strict like the request: an input the protocol does not know is an error, not
 * silently dropped.
 */
export function withConnection<Shape extends z.ZodRawShape, Config extends z.core.$ZodObjectConfig>(
  request: z.ZodObject<Shape, Config>,
) {
  return request.extend({ connection: connectionSchema }).transform((parsed) => {
    // The compiler cannot split a generic object type: these are the two parts
    // the schema above just checked.
    const { connection, ...rest } = parsed as { connection: Connection };
    return { connection, request: rest as z.output<typeof request> };
  });
}

/** Only the connection: for updates that run nothing but store where the host is. */
export const connectionOnly = z.object({ connection: connectionSchema });

/** `fallback` where the engine sent nothing (undefined or null). */
export function orDefault<S extends z.ZodType>(schema: S, fallback: z.input<S>) {
  return z.preprocess((v) => v ?? fallback, schema);
}
