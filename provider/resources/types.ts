import type * as pulumi from "@pulumi/pulumi";
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
