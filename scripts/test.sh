#!/usr/bin/env bash
# Quick start, part two: run every test. Installs what is missing first (the
# same steps as dev-up.sh), then: type check, lint, unit tests (Pulumi mocks),
# end-to-end tests (the real Pulumi CLI, Docker, nginx, cron and sshd here).
#   scripts/test.sh            everything
#   scripts/test.sh unit       type check, lint and unit tests only
#   scripts/test.sh e2e [pattern]  end-to-end tests on this machine only
#   scripts/test.sh fleet [pattern]  end-to-end tests on the test fleet only (test/fleet/)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

what="${1:-all}"
pattern="${2:-}"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

if [ "$what" = unit ]; then ensure_node_modules; else prepare_machine; fi
cd "$CONDUCTOR_ROOT"

if [ "$what" = all ] || [ "$what" = unit ]; then
  step "Type check and lint"
  npx tsc --noEmit -p .
  npx eslint .
  npx prettier --check . >/dev/null || { npx prettier --check .; die "formatting: run npx prettier --write ."; }
  bash "$CONDUCTOR_ROOT/ci/actionlint.sh"
  if command -v shellcheck >/dev/null; then
    shellcheck -x -S warning scripts/*.sh examples/hello/build.sh bench/bare-swap.sh ci/actionlint.sh
  else
    note "shellcheck is not installed (scripts/prerequisites.sh installs it): scripts not checked"
  fi
  step "Unit tests"
  npx jest --selectProjects unit --json --outputFile="$results/unit.json"
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
  step "End-to-end tests"
  # The pattern goes first: --selectProjects takes every word after it.
  npx jest ${pattern:+"$pattern"} --runInBand --json --outputFile="$results/e2e.json" --selectProjects e2e
fi

if [ "$what" = all ] || [ "$what" = fleet ]; then
  step "End-to-end tests on the test fleet (three hosts, a registry; the host image is built once)"
  npx jest ${pattern:+"$pattern"} --runInBand --json --outputFile="$results/fleet.json" --selectProjects fleet
fi

# One closing line that counts both suites.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results"
