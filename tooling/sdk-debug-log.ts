// The SDK sends the engine a debug-level log message a few times per resource
// ("Registering resource: ...", "RegisterResource RPC prepared: ...", "...
// finished: ..."; @pulumi/pulumi log/index.js `debug`), one at a time: each
// waits for the round trip of the one before. The CLI shows them only under
// `pulumi --debug`, which it does not tell the program, so they are sent at
// every deploy and preview. Without them a preview of 50 services x 3 x 3
// (957 resources) took 4.60 s instead of 6.86 s, and 7.6 s of CPU instead of
// 10.7 (bench/preview-profile.ts, median of 5, interleaved).
// So they are dropped before they are sent, unless CONDUCTOR_SDK_DEBUG is set
// (README: "When a deploy fails"); the SDK's info, warnings and errors, and
// the engine's own debug output, are untouched.

/** Set (to anything but empty) to have the SDK's debug messages sent, for `pulumi --debug`. */
export const SDK_DEBUG_VARIABLE = "CONDUCTOR_SDK_DEBUG";

/** The SDK module's export this replaces. */
export interface LogModule {
  debug: (...args: never[]) => Promise<void>;
}

/** The SDK's own module, resolved as the SDK resolves it (the SDK stays external in the bundle). */
function sdkLog(): LogModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module the SDK's own code calls
  return require("@pulumi/pulumi/log") as LogModule;
}

/**
 * Drops the SDK's debug messages unless CONDUCTOR_SDK_DEBUG is set. The SDK's
 * modules call `log.debug` on the module's exports at each call, so replacing
 * the export reaches them all.
 */
export function skipSdkDebugLog(log: LogModule = sdkLog(), env = process.env): void {
  if (env[SDK_DEBUG_VARIABLE]) return;
  log.debug = () => Promise.resolve();
}
