// What the policy pack (policy/) knows of each service: facts the program
// registers as the `policy` output of each conductor:index:Service component.
// The pack cannot read them anywhere else: @pulumi/policy hands policies
// resource properties with secrets unwrapped (so it cannot tell a secret env
// from a plain one), and no stack config at all.
import { z } from "zod";

/** The Service component's output that holds its facts. */
export const POLICY_FACTS_OUTPUT = "policy";

export const serviceFacts = z.object({
  /** The service's name in conductor:services. */
  service: z.string(),
  revision: z.string(),
  /** Present for http services; the path only when the service's config sets one. */
  http: z.object({ healthCheckPath: z.string().optional() }).optional(),
  hosts: z.array(z.string()),
  /** replicas on each of its hosts, added up. */
  containers: z.number().int(),
  /**
   * Whether the env reaches the deploy secret. Pulumi marks secret the whole
   * conductor:services key, not one value, so the names are given only when
   * nothing is secret (and every value is plain in the state already).
   */
  env: z.discriminatedUnion("secret", [
    z.object({ secret: z.literal(true) }),
    z.object({ secret: z.literal(false), keys: z.array(z.string()) }),
  ]),
  /** The credentials of the registry of its image, if conductor:registries has them. */
  registry: z.object({ server: z.string(), passwordSecret: z.boolean() }).optional(),
});

export type ServiceFacts = z.infer<typeof serviceFacts>;
