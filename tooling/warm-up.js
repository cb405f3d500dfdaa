// @ts-check
// The engine starts a provider plugin when the program first needs it: at the
// program's first resource, after the program bundle has loaded (~0.15 s here)
// and the program has read and checked its config and declared its components
// (~0.2 s). The fleet provider then takes ~0.3 s to start (Node.js and the
// SDK's provider server) before the first resource can go ahead
// (bench/startup-bench.ts, issue 11). Calling the provider's do-nothing
// function (protocol/names.ts WARM_UP_FUNCTION) before all that makes the
// engine start it at once, so the two starts overlap.
"use strict";

/** protocol/names.ts WARM_UP_FUNCTION; plain JS cannot import it (warm-up.test.ts checks they agree). */
const WARM_UP_FUNCTION = "fleet:index:warmUp";

/**
 * Sends the warm-up call and yields until it has gone out: every RPC of the
 * SDK leaves only when the event loop runs, and what follows (the bundle's
 * load, the program) runs without yielding. Nothing waits for its answer; a
 * failure only loses the head start (the first resource starts the provider).
 * @returns {Promise<void>}
 */
async function warmUpProvider() {
  const pulumi = require("@pulumi/pulumi");
  pulumi.runtime
    .invoke(WARM_UP_FUNCTION, {})
    .catch((/** @type {unknown} */ err) =>
      pulumi.log.debug(`the fleet provider's warm-up call failed: ${String(err)}`),
    );
  await new Promise((resolve) => setImmediate(resolve));
}

module.exports = { WARM_UP_FUNCTION, warmUpProvider };
