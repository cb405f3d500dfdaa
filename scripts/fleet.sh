#!/usr/bin/env bash
# A test fleet on this machine, by hand (the end-to-end tests start their own):
#   fleet.sh up       three hosts (h1, h2; h3 boots systemd), a registry, a front LB;
#                     prints their SSH ports, the front URL and the registry
#   fleet.sh status   every fleet on this machine, a test's included
#   fleet.sh down     removes every fleet, a running test's too
# The host image is built once, from Debian's packages (about 2 minutes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
  up | down | status) ;;
  *) die "usage: scripts/fleet.sh up|down|status" ;;
esac
if [ "$1" = up ]; then
  bash "$CONDUCTOR_ROOT/scripts/prerequisites.sh"
  ensure_node_modules
fi
cd "$CONDUCTOR_ROOT"
exec node -r esbuild-register test/fleet/cli.ts "$1"
