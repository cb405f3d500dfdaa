#!/usr/bin/env bash
# Deploy timings beside the bare minimum (bench/deploy-bench.ts). Not a test.
#   BENCH_RUNS=5 scripts/benchmark.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bash "$CONDUCTOR_ROOT/scripts/prerequisites.sh"
bash "$CONDUCTOR_ROOT/scripts/toolchain.sh"
ensure_node_modules
pulumi_env
cd "$CONDUCTOR_ROOT"
exec node -r esbuild-register bench/deploy-bench.ts
