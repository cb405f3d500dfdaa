#!/usr/bin/env node
// `npx conductor ...` from a checkout: the operator's command (operator/main.ts).
require("esbuild-register/dist/node").register({ target: "node20" });
require("../operator/main.ts").cli(process.argv.slice(2));
