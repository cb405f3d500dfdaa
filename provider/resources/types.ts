import type * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../transport";

/** CRUD for one resource type; inputs arrive as the engine sends them (secrets wrapped). */
export interface ResourceHandler {
  diff(olds: Record<string, unknown>, news: Record<string, unknown>): pulumi.provider.DiffResult;
  create(inputs: Record<string, unknown>): Promise<pulumi.provider.CreateResult>;
  update(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<pulumi.provider.UpdateResult>;
  delete(state: Record<string, unknown>): Promise<void>;
}

export type WithConnection = { connection: Connection };
