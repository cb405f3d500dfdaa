// The SDK tracks most of its promises with debuggablePromise
// (@pulumi/pulumi runtime/debuggable.js; upstream sdk/nodejs/runtime/debuggable.ts),
// which stores `new Error().stack` on each: V8 captures and formats ten
// frames, async ones included, a dozen times per resource (one per input
// property, its URN, its ID, each engine log call). That was 2.9 s of the
// program's 11.4 s of CPU in a preview of 50 services x 3 x 3 (957 resources,
// bench/preview-profile.ts), and the strings, kept on live promises, made the
// garbage collector's work larger too.
// The SDK reads those traces in one place only: the promise-leak report it
// prints at exit when PULUMI_DEBUG_PROMISE_LEAKS is set (promiseDebugString);
// without it the report says to set it. So, unless it is set, the promises
// are tracked as before with a trace of zero frames: Error.stackTraceLimit
// is 0 for the `new Error()` inside debuggablePromise only, and every other
// error, and the source position the SDK records for each resource
// (Resource.callsites, which raises the limit itself), keep their traces.
// tooling/promise-stacks.test.ts fails if the SDK reads the traces anywhere else.

/** The SDK module's exports that this touches. */
export interface DebuggableModule {
  debugPromiseLeaks: boolean;
  debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
}

/** The SDK's own module, resolved as the SDK resolves it (packages stay external in the bundle). */
function sdkDebuggable(): DebuggableModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal, untyped module
  return require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule;
}

const SKIPPING = Symbol.for("conductor.promiseStacksSkipped");

/**
 * Makes the SDK's debuggablePromise record no stack trace, unless
 * PULUMI_DEBUG_PROMISE_LEAKS asks for them. Idempotent.
 */
export function skipPromiseStacks(debuggable: DebuggableModule = sdkDebuggable()): void {
  const current = debuggable.debuggablePromise as DebuggableModule["debuggablePromise"] & {
    [SKIPPING]?: true;
  };
  if (debuggable.debugPromiseLeaks || current[SKIPPING]) return;
  const withoutStack = function <T>(this: unknown, p: Promise<T>, ctx: unknown): Promise<T> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return current.call(this, p, ctx) as Promise<T>;
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  debuggable.debuggablePromise = Object.assign(withoutStack, { [SKIPPING]: true as const });
}
