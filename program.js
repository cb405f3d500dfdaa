// The entry point the Pulumi CLI runs (Pulumi.yaml `main`): index.ts, bundled
// by esbuild into dist/program.js, rebuilt when one of its sources changed
// (tooling/bundles.js). Compiling the TypeScript at every start, even with
// esbuild-register, cost a second of every deploy. Types are checked by
// `npx tsc` (scripts/test.sh).
const { BUNDLES, freshBundle } = require("./tooling/bundles");

// The SDK calls an exported function and awaits it: the stack's outputs are
// what the program returns. The provider is already starting
// (tooling/warm-up.js, preloaded).
module.exports = async () => require(freshBundle(BUNDLES.program).path)();
