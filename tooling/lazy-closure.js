// @ts-check
// Preloaded into the Pulumi program (Pulumi.yaml: runtime.options.nodeargs).
//
// `require("@pulumi/pulumi")` loads the SDK's closure serializer, which needs
// `typescript` and `@npmcli/arborist` (with pacote, sigstore, ...): about half
// a second of every deploy on a 2-core machine, for `serializeFunction` and
// `computeCodePaths`, which only function serialization (dynamic providers,
// cloud callbacks) calls. conductor never does. Here the two SDK modules that
// load them are replaced, before the SDK loads, by stand-ins whose functions
// load the real module on first call and forward to it: nothing is lost if
// something does need them, it just pays the load then.
// tooling/lazy-closure.test.ts fails if the program ever loads them, or if the
// SDK's modules export names the stand-ins do not cover.
"use strict";

const Module = require("module");
const path = require("path");

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The SDK modules, each with the names it exports (all functions). */
const LAZY = {
  "@pulumi/pulumi/runtime/closure/serializeClosure": [
    "serializeFunction",
    "serializeFunctionAsync",
  ],
  "@pulumi/pulumi/runtime/closure/codePaths": ["computeCodePaths", "findWorkspaceRoot"],
};

/**
 * Puts a stand-in for `file` in the module cache: each function loads the real
 * module (which then replaces the stand-in in the cache) and calls its namesake.
 * @param {string} file
 * @param {string[]} names
 */
function installStandIn(file, names) {
  /** @type {Record<string, Function> | undefined} */
  let real;
  const load = () => {
    if (!real) {
      delete require.cache[file];
      real = require(file);
    }
    return /** @type {Record<string, Function>} */ (real);
  };
  /** @type {Record<string, unknown>} */
  const exports = { __esModule: true };
  for (const name of names) {
    exports[name] = function (/** @type {unknown[]} */ ...args) {
      return load()[name].apply(this, args);
    };
  }
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = exports;
  require.cache[file] = standIn;
}

for (const [id, names] of Object.entries(LAZY)) {
  installStandIn(require.resolve(id, { paths: [PROJECT_ROOT] }), names);
}

module.exports = { LAZY };
