#!/usr/bin/env node
// @ts-check
// The entry point the Pulumi CLI starts for a Node.js policy pack
// (`pulumi preview --policy-pack DIR`, PulumiPolicy.yaml `runtime: nodejs`),
// standing in for the `pulumi-analyzer-policy` script that ships only in the
// official CLI archive. Its whole job: load `@pulumi/pulumi/cmd/run-policy-pack`
// from the pack's own dependencies and hand it our arguments, which are
// `<engine address> <pack dir, usually "."> [-option=value ...]`. The pack's
// program then starts @pulumi/policy's analyzer server and prints its port.
//
// The CLI runs it with the pack's directory as the working directory. It runs
// in this process: no child to forward signals to or to outlive the CLI.
"use strict";

const path = require("path");

const RUNNER = "@pulumi/pulumi/cmd/run-policy-pack";

function main() {
  let runner;
  try {
    runner = require.resolve(RUNNER, { paths: [process.cwd()] });
  } catch {
    // The CLI looks for this exact text to say "install the pack's dependencies".
    console.error(`Cannot find module '${RUNNER}' from ${path.resolve(process.cwd())}`);
    process.exit(1);
  }
  // run-policy-pack reads its arguments from process.argv.
  process.argv = [process.argv[0], runner, ...process.argv.slice(2)];
  require(runner);
}

main();
