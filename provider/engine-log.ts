// Messages to the Pulumi engine, shown by `pulumi up` under the resource they
// concern (as `pulumi.log.info` does in a program). The SDK's provider server
// keeps no engine client for create and update, so the provider makes its own
// from the engine address the CLI passes as the plugin's first argument.
import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

/** Shows `message` in the deploy's output under the resource `urn`. */
export type SayToEngine = (urn: string, message: string) => Promise<void>;

/** The engine's address among the plugin's arguments: the first that is not a flag. */
export function engineAddressOf(args: string[]): string | undefined {
  return args.find((a) => !a.startsWith("-"));
}

/** A SayToEngine through the engine at `address`; none (messages dropped) without one. */
export function engineLog(address: string | undefined): SayToEngine {
  if (!address) return async () => undefined;
  let client: EngineClient | undefined;
  return (urn, message) => {
    client ??= new EngineClient(address, grpc.credentials.createInsecure());
    const request = new LogRequest()
      .setSeverity(LogSeverity.INFO)
      .setMessage(message)
      .setUrn(urn)
      .setEphemeral(false);
    return new Promise((resolve) =>
      // A message that cannot be shown must not fail the deploy.
      client!.log(request, () => resolve()),
    );
  };
}
