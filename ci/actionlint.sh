#!/usr/bin/env bash
# Checks the GitHub Actions workflows with actionlint (expressions, job needs,
# action inputs, and the shell of `run:` steps through shellcheck when it is
# installed). Installs actionlint with `go install` into the cache, outside the
# repo, the first time; nothing after that.
#   bash ci/actionlint.sh
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${CONDUCTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conductor}"
bin_dir="$cache/tools/actionlint-$ACTIONLINT_VERSION"
actionlint="$bin_dir/actionlint"

if [ ! -x "$actionlint" ]; then
  command -v go >/dev/null || { echo "error: actionlint needs Go to install (go install)" >&2; exit 1; }
  echo "==> Installing actionlint $ACTIONLINT_VERSION into $bin_dir (go install)"
  mkdir -p "$bin_dir"
  GOBIN="$bin_dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

if command -v shellcheck >/dev/null; then
  shellcheck_note="with shellcheck"
else
  shellcheck_note="without shellcheck (not installed: run: scripts are not checked)"
fi
echo "==> actionlint $ACTIONLINT_VERSION on .github/workflows, $shellcheck_note"
cd "$root"
"$actionlint" -no-color
echo "    workflows: ok"
