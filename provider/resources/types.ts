import type * as pulumi from "@pulumi/pulumi";
import type { RunOnHost } from "../transport";

/** Shows a message in the deploy's output, under the resource being handled. */
export type Say = (message: string) => Promise<void>;

/**
 * CRUD for one resource type. Inputs and state arrive as the engine sends them
 * (secrets wrapped); `run` reaches the hosts (the provider's, a fake in tests).
 */
export interface ResourceHandler {
  diff(olds: Record<string, unknown>, news: Record<string, unknown>): pulumi.provider.DiffResult;
  create(
    inputs: Record<string, unknown>,
    run: RunOnHost,
    say?: Say,
  ): Promise<pulumi.provider.CreateResult>;
  update(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    run: RunOnHost,
    say?: Say,
  ): Promise<pulumi.provider.UpdateResult>;
  delete(state: Record<string, unknown>, run: RunOnHost): Promise<void>;
  /**
   * What the host really has (pulumi refresh): the state to store, or GONE
   * (observed.ts). `state` is the stored one, secrets wrapped.
   */
  read(
    id: string,
    state: Record<string, unknown>,
    run: RunOnHost,
    say?: Say,
  ): Promise<pulumi.provider.ReadResult>;
}
