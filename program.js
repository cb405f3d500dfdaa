// The entry point the Pulumi CLI runs (Pulumi.yaml `main`): index.ts, bundled
// by esbuild into dist/program.js, rebuilt when one of its sources changed
// (tooling/bundles.js). Compiling the TypeScript at every start, even with
// esbuild-register, cost a second of every deploy. Types are checked by
// `npx tsc` (scripts/test.sh).
const { BUNDLES, freshBundle } = require("./tooling/bundles");
module.exports = require(freshBundle(BUNDLES.program).path);
