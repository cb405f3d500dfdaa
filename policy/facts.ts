// Reads the services' facts (protocol/policy-facts.ts) out of the resources a
// stack policy is given: the `policy` output of each conductor:index:Service.
import { COMPONENT_TYPES } from "../protocol/names";
import { POLICY_FACTS_OUTPUT, serviceFacts, type ServiceFacts } from "../protocol/policy-facts";

export interface StackResource {
  type: string;
  urn: string;
  props: Record<string, unknown>;
}

export interface ReadFacts {
  services: (ServiceFacts & { urn: string })[];
  /** Services whose facts are missing or malformed: a program older or newer than the pack. */
  unreadable: { urn: string; message: string }[];
}

export function readFacts(resources: readonly StackResource[]): ReadFacts {
  const result: ReadFacts = { services: [], unreadable: [] };
  for (const r of resources.filter((r) => r.type === COMPONENT_TYPES.service)) {
    const parsed = serviceFacts.safeParse(r.props[POLICY_FACTS_OUTPUT]);
    if (parsed.success) result.services.push({ ...parsed.data, urn: r.urn });
    else
      result.unreadable.push({
        urn: r.urn,
        message: `service ${nameOfUrn(r.urn)} has no readable "${POLICY_FACTS_OUTPUT}" output: the program and the policy pack are of different versions`,
      });
  }
  return result;
}

/** urn:pulumi:<stack>::<project>::<type>::<name> */
export function nameOfUrn(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

export function stackOfUrn(urn: string): string {
  return urn.split("::")[0]?.split(":")[2] ?? "";
}
