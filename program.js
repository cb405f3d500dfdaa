// The entry point the Pulumi CLI runs (Pulumi.yaml `main`). It loads index.ts
// through esbuild: the SDK's own TypeScript path (ts-node) costs about a second
// per run, before any resource. Types are checked by `npx tsc` (scripts/test.sh).
require("esbuild-register/dist/node").register({ target: "node20" });
module.exports = require("./index.ts");
