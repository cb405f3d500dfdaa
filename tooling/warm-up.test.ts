// The warm-up preloaded into the program (tooling/warm-up.js): its hand-made
// gRPC call must be one a real gRPC server with Pulumi's own protobufs takes
// for ResourceMonitor.Invoke of the provider's function, and it must never
// keep the program running.
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as monitorService from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import { WARM_UP_FUNCTION as PROTOCOL_NAME } from "../protocol/names";
import { WARM_UP_FUNCTION, invokeFrame, monitorAddress } from "./warm-up";

const PRELOAD = path.join(__dirname, "warm-up.js");

it("calls the function the provider answers", () => {
  // Plain JS (preloaded before anything is compiled) cannot import protocol/names.ts.
  expect(WARM_UP_FUNCTION).toBe(PROTOCOL_NAME);
});

it("finds the monitor in the launcher's arguments, in either form", () => {
  const launcher = ["node", "run/index.js", "--engine", "127.0.0.1:1"];
  expect(monitorAddress([...launcher, "--monitor", "127.0.0.1:4567", "."])).toBe("127.0.0.1:4567");
  expect(monitorAddress([...launcher, "--monitor=127.0.0.1:4567", "."])).toBe("127.0.0.1:4567");
  expect(monitorAddress(launcher)).toBeUndefined();
});

it("frames a request Pulumi's protobufs read as an invoke of the token alone", () => {
  const frame = invokeFrame(WARM_UP_FUNCTION);
  expect(frame[0]).toBe(0); // not compressed
  expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
  const request = resourceProto.ResourceInvokeRequest.deserializeBinary(frame.subarray(5));
  expect(request.getTok()).toBe(WARM_UP_FUNCTION);
  expect(request.getArgs()).toBeUndefined();
});

/** A resource monitor on a free port whose Invoke records the token and answers as told. */
async function fakeMonitor(answer: boolean) {
  const tokens: string[] = [];
  const arrivals: number[] = [];
  const server = new grpc.Server();
  server.addService(monitorService.ResourceMonitorService, {
    invoke: (
      call: grpc.ServerUnaryCall<resourceProto.ResourceInvokeRequest, unknown>,
      respond: grpc.sendUnaryData<unknown>,
    ) => {
      tokens.push(call.request.getTok());
      arrivals.push(Date.now());
      if (answer) respond(null, new providerProto.InvokeResponse());
    },
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, tokens, arrivals, stop: () => server.forceShutdown() };
}

/** A program preloaded with the warm-up, as the launcher runs it: how it ended, and what it printed. */
function runPreloaded(
  script: string,
  monitor: string,
): Promise<{ ms: number; exited: number; code: number | null; output: string }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--require", PRELOAD, "-e", script, "run/index.js", "--monitor", monitor, "."],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ ms: Date.now() - started, exited: Date.now(), code, output }),
    );
  });
}

it("reaches a real gRPC resource monitor before the program has done anything", async () => {
  const monitor = await fakeMonitor(true);
  try {
    // The program spins for 1 s without yielding, as the launcher does while loading the SDK.
    const { exited, code, output } = await runPreloaded(
      "const end = Date.now() + 2000; while (Date.now() < end);",
      monitor.address,
    );
    expect({ code, output }).toEqual({ code: 0, output: "" });
    expect(monitor.tokens).toEqual([WARM_UP_FUNCTION]);
    // Sent from the program's own thread, it would leave only once the spinning ended.
    expect(exited - monitor.arrivals[0]).toBeGreaterThan(1000);
  } finally {
    monitor.stop();
  }
});

it("lets the program end without waiting for an answer", async () => {
  const monitor = await fakeMonitor(false);
  try {
    const { ms, code } = await runPreloaded("setTimeout(() => {}, 300);", monitor.address);
    expect(code).toBe(0);
    expect(monitor.tokens).toEqual([WARM_UP_FUNCTION]);
    expect(ms).toBeLessThan(5_000); // the request waits up to 60 s for an answer
  } finally {
    monitor.stop();
  }
});

// A failed warm-up only loses the head start: never the deploy, never a word on its output.
it.each([
  ["refuses connections", "127.0.0.1:1"],
  ["is no address http2 takes", "::1:5"],
])("leaves the program alone when the monitor %s", async (_, monitor) => {
  const result = await runPreloaded(
    "setTimeout(() => console.log('the program ran'), 300);",
    monitor,
  );
  expect({ code: result.code, output: result.output }).toEqual({
    code: 0,
    output: "the program ran\n",
  });
});
