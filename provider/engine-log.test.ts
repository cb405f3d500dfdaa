// The provider's messages reach a real gRPC server speaking the engine's
// protocol (the SDK's generated service), as `pulumi up` would receive them.
import * as grpc from "@grpc/grpc-js";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { type LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { engineAddressOf, engineLog } from "./engine-log";

const URN = "urn:pulumi:production::conductor::fleet:index:Predeploy::web-predeploy";

describe("engineAddressOf", () => {
  it("takes the first argument that is not a flag, as the CLI passes it", () => {
    expect(engineAddressOf(["--logtostderr", "-v=9", "127.0.0.1:41235"])).toBe("127.0.0.1:41235");
    expect(engineAddressOf(["127.0.0.1:1", "--tracing", "x"])).toBe("127.0.0.1:1");
    expect(engineAddressOf(["--logtostderr"])).toBeUndefined();
  });
});

describe("engineLog", () => {
  let server: grpc.Server;
  let address: string;
  const received: { severity: number; message: string; urn: string; ephemeral: boolean }[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(EngineService, {
      log(call: grpc.ServerUnaryCall<LogRequest, Empty>, done: grpc.sendUnaryData<Empty>) {
        const r = call.request;
        received.push({
          severity: r.getSeverity(),
          message: r.getMessage(),
          urn: r.getUrn(),
          ephemeral: r.getEphemeral(),
        });
        done(null, new Empty());
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => server.forceShutdown());

  it("sends each message at info severity under the resource's urn, kept in the output", async () => {
    const say = engineLog(address);
    await say(URN, "host app-1: predeploy `bin/rails db:migrate` succeeded");
    expect(received).toStrictEqual([
      {
        severity: LogSeverity.INFO,
        message: "host app-1: predeploy `bin/rails db:migrate` succeeded",
        urn: URN,
        ephemeral: false,
      },
    ]);
  });

  it("does not fail when the engine cannot be reached, nor without an address", async () => {
    await expect(engineLog("127.0.0.1:1")(URN, "lost")).resolves.toBeUndefined();
    await expect(engineLog(undefined)(URN, "dropped")).resolves.toBeUndefined();
  });
});
