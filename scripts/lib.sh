# shellcheck shell=bash
# Shared by the scripts in this folder: where things live, how we log.
# Source it; it sets no shell options of its own.

CONDUCTOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../toolchain/versions.env
. "$CONDUCTOR_ROOT/toolchain/versions.env"

# Slow-to-build binaries are cached outside the repo, keyed by version, so a
# fresh clone or `git clean` does not rebuild them.
CONDUCTOR_CACHE="${CONDUCTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conductor}"
TOOLCHAIN_BIN="$CONDUCTOR_CACHE/toolchain/pulumi-v$PULUMI_VERSION/bin"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The environment every pulumi invocation here runs with: offline, no prompts.
pulumi_env() {
  export PATH="$TOOLCHAIN_BIN:$PATH"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
}

# Installs npm packages when package-lock.json changed since the last install.
# Two test runs in one checkout install one at a time (flock): two npm ci at
# once delete each other's files.
ensure_node_modules() {
  mkdir -p "$CONDUCTOR_CACHE"
  (
    flock 8
    if cmp -s "$CONDUCTOR_ROOT/package-lock.json" "$CONDUCTOR_ROOT/node_modules/.package-lock.json.installed" 2>/dev/null; then
      note "npm packages: up to date"
      exit 0
    fi
    step "Installing npm packages (npm ci)"
    (cd "$CONDUCTOR_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$CONDUCTOR_ROOT/package-lock.json" "$CONDUCTOR_ROOT/node_modules/.package-lock.json.installed"
  ) 8>"$CONDUCTOR_CACHE/npm-install.lock"
}

# The local state backend, outside the repo, unless the caller brought its own.
# The dev stack's secrets passphrase is a fixed, public one: the stack holds
# nothing secret, and a fixed one lets Pulumi.dev.yaml carry its salt in git.
local_backend_env() {
  local home="${CONDUCTOR_HOME:-$HOME/.conductor}"
  mkdir -p "$home/state"
  chmod 700 "$home"
  # metadata=skip: no sidecar files beside the state. Pulumi's file backend
  # (gocloud fileblob) truncates a sidecar before writing it again, so a
  # `pulumi up` killed at that instant left one empty and the stack
  # unreadable ("failed to load checkpoint: EOF"; README, "Recover an
  # interrupted deploy"). The state files themselves are written atomically.
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$home/state?metadata=skip}"
  export PULUMI_CONFIG_PASSPHRASE="${CONDUCTOR_DEV_PASSPHRASE:-conductor-dev}"
  unset PULUMI_CONFIG_PASSPHRASE_FILE
}

# The program, the provider and the host command as cached esbuild bundles in
# dist/ (tooling/bundles.js): built here so the first deploy does not wait for
# them; each is rebuilt on its own whenever one of its sources changes.
ensure_bundles() {
  (cd "$CONDUCTOR_ROOT" && node -e '
    const { BUNDLES, freshBundle } = require("./tooling/bundles");
    for (const spec of Object.values(BUNDLES)) freshBundle(spec);')
}

# Everything a deploy or a test needs on this machine, installed and started.
# One caller at a time (flock): two at once would run apt-get twice, start a
# second dockerd, or build the Pulumi CLI twice.
prepare_machine() {
  mkdir -p "$CONDUCTOR_CACHE"
  (
    flock 8
    bash "$CONDUCTOR_ROOT/scripts/prerequisites.sh"
    bash "$CONDUCTOR_ROOT/scripts/toolchain.sh"
  ) 8>"$CONDUCTOR_CACHE/prepare-machine.lock"
  ensure_node_modules
  ensure_bundles
  pulumi_env
}
