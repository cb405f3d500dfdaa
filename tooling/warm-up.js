// @ts-check
// Preloaded into the Pulumi program, first (Pulumi.yaml: runtime.options.nodeargs).
//
// The engine starts a provider plugin when the program first needs it. Left to
// the program, that is after Node.js has loaded the SDK's launcher (~0.3 s
// here), the program bundle and its config (~0.07 s), and the fleet provider
// then takes ~0.25 s more to start before the first resource can go ahead
// (bench/startup-bench.ts, issue 11). So this file asks the engine for the
// provider's do-nothing function (protocol/names.ts WARM_UP_FUNCTION) before
// the SDK even loads, and the provider starts beside all of that.
//
// The call cannot wait for the SDK, nor for this thread: the launcher loads the
// SDK without yielding, and a socket opened here would connect only once it
// yields. A worker thread makes the call instead: one gRPC request, written
// with Node.js's own HTTP/2 (loading @grpc/grpc-js there would cost 40 ms of
// the head start). Nothing waits for its answer, and a failure only loses the
// head start: the program's first resource starts the provider anyway.
"use strict";

const { Worker, isMainThread, workerData } = require("node:worker_threads");

/** protocol/names.ts WARM_UP_FUNCTION; plain JS cannot import it (warm-up.test.ts checks they agree). */
const WARM_UP_FUNCTION = "fleet:index:warmUp";
const INVOKE_PATH = "/pulumirpc.ResourceMonitor/Invoke";
/** The worker gives up on an answer after this long; it never keeps the program alive anyway. */
const ANSWER_TIMEOUT_MS = 60_000;

/**
 * The engine's resource monitor, from the launcher's arguments (`--monitor A`
 * or `--monitor=A`, as the SDK's launcher reads them).
 * @param {string[]} argv
 * @returns {string | undefined}
 */
function monitorAddress(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--monitor") return argv[i + 1];
    if (argv[i].startsWith("--monitor=")) return argv[i].slice("--monitor=".length);
  }
  return undefined;
}

/**
 * A `ResourceInvokeRequest` with only its token (field 1, a string), in
 * protobuf's encoding, in a gRPC message frame (uncompressed, 4-byte length).
 * @param {string} token
 * @returns {Buffer}
 */
function invokeFrame(token) {
  const bytes = Buffer.from(token, "utf8");
  if (bytes.length > 127) throw new Error(`${token}: too long for a one-byte length`);
  const message = Buffer.concat([Buffer.from([(1 << 3) | 2, bytes.length]), bytes]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/**
 * Sends the call over a connection of its own, and closes it once answered.
 * @param {string} address host:port
 */
function invoke(address) {
  const http2 = require("node:http2");
  const session = http2.connect(`http://${address}`);
  session.on("error", () => {});
  session.setTimeout(ANSWER_TIMEOUT_MS, () => session.destroy());
  const request = session.request({
    ":method": "POST",
    ":path": INVOKE_PATH,
    "content-type": "application/grpc",
    te: "trailers",
  });
  request.on("error", () => {});
  request.on("close", () => session.close());
  request.resume();
  request.end(invokeFrame(WARM_UP_FUNCTION));
}

/**
 * Starts the worker that sends the call. Whatever goes wrong (no worker, an
 * address `http2` refuses, an error thrown in the worker) is swallowed: an
 * error the worker threw would otherwise be thrown again in the program's
 * thread, and fail the deploy.
 * @param {string} address
 */
function warmUpInWorker(address) {
  try {
    const worker = new Worker(__filename, {
      workerData: { warmUpMonitor: address },
      // Not the program's --require flags: this file and lazy-sdk.js again, before the call.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    worker.on("error", () => {});
    // The program may end before the answer comes, and must not wait for it.
    worker.unref();
  } catch {
    // No head start; the program's first resource starts the provider.
  }
}

if (isMainThread) {
  const address = monitorAddress(process.argv);
  if (address) warmUpInWorker(address);
} else if (workerData?.warmUpMonitor) {
  // What it throws ends the worker only: the program's thread ignores its 'error'.
  invoke(workerData.warmUpMonitor);
}

module.exports = { WARM_UP_FUNCTION, monitorAddress, invokeFrame };
