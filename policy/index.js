// The pack's entry (run-policy-pack requires this directory). run-policy-pack
// compiles TypeScript itself, with ts-node and this directory's tsconfig.json.
require("./pack.ts");
