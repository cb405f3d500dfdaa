// The resource provider behind the `fleet` package: a Pulumi plugin written
// with the Node.js SDK's provider server. It stands where @pulumi/command would
// (whose Go provider the proxy here refuses); its resources call the
// `conductor` host command with requests on stdin.
import type * as pulumi from "@pulumi/pulumi";
import { RESOURCE_TYPES, type ResourceType, WARM_UP_FUNCTION } from "../protocol/names";
import { agentHandler } from "./resources/agent";
import { containerHandler } from "./resources/container";
import { cronFileHandler } from "./resources/cron-file";
import { imageHandler } from "./resources/image";
import { nginxSiteHandler } from "./resources/nginx-site";
import { predeployHandler } from "./resources/predeploy";
import { releaseHandler } from "./resources/release";
import type { ResourceHandler } from "./resources/types";
import type { SayToEngine } from "./engine-log";
import { type RunOnHost, runOnHost } from "./transport";

export const PROVIDER_VERSION = "0.1.0";

const handlers: Record<ResourceType, ResourceHandler> = {
  [RESOURCE_TYPES.agent]: agentHandler,
  [RESOURCE_TYPES.container]: containerHandler,
  [RESOURCE_TYPES.cronFile]: cronFileHandler,
  [RESOURCE_TYPES.image]: imageHandler,
  [RESOURCE_TYPES.nginxSite]: nginxSiteHandler,
  [RESOURCE_TYPES.predeploy]: predeployHandler,
  [RESOURCE_TYPES.release]: releaseHandler,
};

/** urn:pulumi:<stack>::<project>::<parent types$>type::<name> */
export function typeOfUrn(urn: string): string {
  const qualifiedType = urn.split("::")[2] ?? "";
  return qualifiedType.split("$").pop() ?? "";
}

function handlerFor(urn: string): ResourceHandler {
  const handler = handlers[typeOfUrn(urn) as ResourceType] as ResourceHandler | undefined;
  if (!handler) throw new Error(`unknown resource type ${typeOfUrn(urn)}`);
  return handler;
}

export class FleetProvider implements pulumi.provider.Provider {
  readonly version = PROVIDER_VERSION;
  /** How handlers reach the hosts: locally or over SSH, or a fake in tests. */
  readonly #run: RunOnHost;
  /** What handlers show in the deploy's output (the engine's log; nothing in tests). */
  readonly #say: SayToEngine;

  constructor(run: RunOnHost = runOnHost, say: SayToEngine = async () => undefined) {
    this.#run = run;
    this.#say = say;
  }

  async diff(
    _id: string,
    urn: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ) {
    return handlerFor(urn).diff(olds, news);
  }

  async create(urn: string, inputs: Record<string, unknown>) {
    return handlerFor(urn).create(inputs, this.#run, (message) => this.#say(urn, message));
  }

  async update(
    _id: string,
    urn: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ) {
    return handlerFor(urn).update(olds, news, this.#run, (message) => this.#say(urn, message));
  }

  async delete(_id: string, urn: string, state: Record<string, unknown>) {
    await handlerFor(urn).delete(state, this.#run);
  }

  /**
   * pulumi refresh. Never an import: the Node.js SDK's server fails an import
   * before this, calling toJavaScript() on the properties an import does not
   * send (@pulumi/pulumi provider/server.js `read`; README: "Drift and `pulumi refresh`").
   */
  async read(id: string, urn: string, state: Record<string, unknown>) {
    return handlerFor(urn).read(id, state, this.#run, (message) => this.#say(urn, message));
  }

  /** The warm-up call (protocol/names.ts): being started was its whole purpose. */
  async invoke(token: string): Promise<pulumi.provider.InvokeResult> {
    if (token !== WARM_UP_FUNCTION) throw new Error(`unknown function ${token}`);
    return { outputs: {} };
  }
}
