#!/usr/bin/env bash
# Deploy timings beside the bare minimum (bench/deploy-bench.ts), and the
# supervisor at rest (bench/supervise-bench.ts). Not a test.
#   BENCH_RUNS=5 scripts/benchmark.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
prepare_machine
cd "$CONDUCTOR_ROOT"
node -r esbuild-register bench/deploy-bench.ts
node -r esbuild-register bench/supervise-bench.ts
