import { z } from "zod";

/** How the deploy reaches a host: the program builds it, the provider uses it. */
export const connectionSchema = z.strictObject({
  /** The host's name in conductor:hosts. */
  host: z.string().min(1),
  address: z.string().min(1),
  /** address "local": this machine, without SSH. */
  local: z.boolean(),
  user: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  privateKey: z.string().optional(),
});

export type Connection = z.infer<typeof connectionSchema>;
