// @ts-check
// Preloaded into the Pulumi program (Pulumi.yaml: runtime.options.nodeargs).
//
// The SDK loads, at every start, parts that a deploy of ours never calls, and
// they cost about 0.7 s of every `pulumi up` on a 2-core machine:
// - the closure serializer, with `typescript` and `@npmcli/arborist` (pacote,
//   sigstore, ...), for `serializeFunction` and `computeCodePaths`, which only
//   function serialization (dynamic providers, cloud callbacks) calls;
// - the launcher's tracing: OpenTelemetry's SDK, Zipkin exporter and gRPC
//   instrumentation, for `pulumi --tracing` only.
// And one part that costs more the bigger the stack: the launcher installs
// `source-map-support`, and the SDK formats a stack trace for every resource
// (its source position, all frames) and every promise it tracks: each frame
// then goes through source-map-support, 4-5 s of a 50 x 3 x 3 preview (~950
// resources). Our program is an esbuild bundle without source maps, and the
// SDK's maps only point into its own TypeScript: it maps nothing of use, so it
// is not installed here (V8 formats the traces itself).
// Here the SDK modules that load them are replaced, before the SDK loads, by
// stand-ins that load the real module on first real use and forward to it:
// nothing is lost if something does need them, it just pays the load then.
// tooling/lazy-sdk.test.ts fails if the program loads them, or if an SDK module
// exports a name its stand-in does not cover.
"use strict";

const Module = require("module");
const path = require("path");

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** @typedef {Record<string, Function>} Exports */

/**
 * Stand-ins whose every function loads the real module and calls its namesake.
 * @param {() => Exports} real
 * @param {string[]} names
 */
function forwarding(real, names) {
  return Object.fromEntries(
    names.map((name) => [
      name,
      function (/** @type {unknown[]} */ ...args) {
        return real()[name].apply(this, args);
      },
    ]),
  );
}

/**
 * The launcher's tracing (cmd/run/tracing.js). `newSpan` is called at every
 * run, `start` only with --tracing: until then, a span is what the real
 * `newSpan` makes when `start` never ran (no root span): one from the global
 * tracer of @opentelemetry/api, a no-op unless something registered a tracer.
 * @param {() => Exports} real
 * @param {string} file
 */
function tracing(real, file) {
  let started = false;
  const api = () => require(require.resolve("@opentelemetry/api", { paths: [path.dirname(file)] }));
  return {
    start(/** @type {string} */ url) {
      started = true;
      return real().start(url);
    },
    stop() {
      if (started) real().stop();
    },
    newSpan(/** @type {string} */ name) {
      if (started) return real().newSpan(name);
      const { trace, context } = api();
      const ctx = trace.setSpan(context.active(), trace.getActiveSpan());
      return trace.getTracer("nodejs-runtime").startSpan(name, undefined, ctx);
    },
  };
}

/** Each SDK module replaced, with its stand-in's exports. */
const LAZY = {
  "@pulumi/pulumi/runtime/closure/serializeClosure": (/** @type {() => Exports} */ real) =>
    forwarding(real, ["serializeFunction", "serializeFunctionAsync"]),
  "@pulumi/pulumi/runtime/closure/codePaths": (/** @type {() => Exports} */ real) =>
    forwarding(real, ["computeCodePaths", "findWorkspaceRoot"]),
  "@pulumi/pulumi/cmd/run/tracing": tracing,
  // What the launcher (cmd/run/index.js) requires for its side effect, install().
  "source-map-support/register": () => ({}),
};

/** Each is resolved from the launcher's folder, as its own require does. */
const SDK_LAUNCHER = path.dirname(
  require.resolve("@pulumi/pulumi/cmd/run", { paths: [PROJECT_ROOT] }),
);
const resolve = (/** @type {string} */ id) => require.resolve(id, { paths: [SDK_LAUNCHER] });

/**
 * Puts a stand-in for `file` in the module cache. The real module, once
 * loaded, replaces it there.
 * @param {string} file
 * @param {(real: () => Exports, file: string) => Record<string, unknown>} makeExports
 */
function installStandIn(file, makeExports) {
  /** @type {Exports | undefined} */
  let loaded;
  const real = () => {
    if (!loaded) {
      delete require.cache[file];
      loaded = /** @type {Exports} */ (require(file));
    }
    return loaded;
  };
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = { __esModule: true, ...makeExports(real, file) };
  require.cache[file] = standIn;
}

for (const [id, makeExports] of Object.entries(LAZY)) installStandIn(resolve(id), makeExports);

/** The names each stand-in exports (for the test). */
const STAND_IN_NAMES = Object.fromEntries(
  Object.keys(LAZY).map((id) => [
    id,
    Object.keys(/** @type {Module} */ (require.cache[resolve(id)]).exports)
      .filter((k) => k !== "__esModule")
      .sort(),
  ]),
);

module.exports = { STAND_IN_NAMES };
