// Runs a Pulumi program under mocks and records what it registers: the inputs
// the engine would see (from the mocks) and the resource options (from a stack
// transformation, since options never reach the mocks).
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "conductor";
export const STACK = "dev";

/** One registered resource, keyed as `type::name`. */
export interface Registered {
  type: string;
  name: string;
  /** As serialized for the engine: secrets arrive wrapped (see provider/secrets.ts). */
  inputs: Record<string, unknown>;
  urn: string;
  /** `type::name` of opts.parent; undefined for a child of the stack. */
  parent?: string;
  /** `type::name` of each resource in opts.dependsOn. */
  dependsOn: string[];
  opts: pulumi.ResourceOptions;
}

export const key = (type: string, name: string) => `${type}::${name}`;

/**
 * Sets fresh mocks, then runs `program` inside a stack. Containers get host
 * ports 20000, 20001, ... in registration order, and `hostPorts` says which.
 */
export async function runUnderMocks(
  program: () => Promise<void> | void,
): Promise<{ resources: Map<string, Registered>; hostPorts: Map<string, number> }> {
  const inputs = new Map<string, Record<string, unknown>>();
  const hostPorts = new Map<string, number>();
  await pulumi.runtime.setMocks(
    {
      newResource({ type, name, inputs: props }) {
        inputs.set(key(type, name), props);
        if (type !== "fleet:index:Container") return { id: `${name}-id`, state: props };
        const hostPort = 20000 + hostPorts.size;
        hostPorts.set(name, hostPort);
        return { id: `${name}-id`, state: { ...props, name: `${name}-docker`, hostPort } };
      },
      call: () => ({}),
    },
    PROJECT,
    STACK,
    false,
  );

  const seen: {
    type: string;
    name: string;
    resource: pulumi.Resource;
    opts: pulumi.ResourceOptions;
  }[] = [];
  // A program that throws inside the stack becomes an unhandled rejection that
  // kills jest itself: keep the error and throw it once the stack is done.
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ type, name, resource, opts }) => {
      seen.push({ type, name, resource, opts });
      return undefined;
    });
    try {
      await program();
      // Every registration is done once every URN is known.
      await Promise.all(seen.map(({ resource }) => promiseOf(resource.urn)));
    } catch (err) {
      failure = err;
    }
  });
  if (failure) throw failure;

  // Resources the transformation missed would escape every assertion on options.
  const unseen = [...inputs.keys()].filter(
    (k) => !k.startsWith("pulumi:pulumi:Stack::") && !seen.some((r) => key(r.type, r.name) === k),
  );
  if (unseen.length > 0) throw new Error(`registered without a transformation: ${unseen}`);

  const keyOf = new Map(seen.map(({ type, name, resource }) => [resource, key(type, name)]));
  const nameOf = (r: unknown) => keyOf.get(r as pulumi.Resource) ?? `<unknown ${String(r)}>`;
  const resources = new Map<string, Registered>();
  for (const { type, name, resource, opts } of seen) {
    const k = key(type, name);
    const deps = opts.dependsOn;
    resources.set(k, {
      type,
      name,
      inputs: inputs.get(k) ?? {},
      urn: await promiseOf(resource.urn),
      parent: opts.parent ? nameOf(opts.parent) : undefined,
      dependsOn: (Array.isArray(deps) ? deps : deps ? [deps] : []).map(nameOf),
      opts,
    });
  }
  return { resources, hostPorts };
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}
