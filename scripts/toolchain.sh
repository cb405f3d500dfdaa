#!/usr/bin/env bash
# Builds the Pulumi CLI from the Go module proxy (the official installer cannot
# be reached here) and installs the Node.js language host next to it. The CLI
# is cached per version outside the repo; a warm cache makes this a no-op.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_cli() {
  local work
  work="$(mktemp -d)"
  cp "$CONDUCTOR_ROOT"/toolchain/pulumi-cli/{go.mod,go.sum,tools.go} "$work/"
  step "Building pulumi v$PULUMI_VERSION from the Go module proxy (a few minutes, once)"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "$GO_BUILD_TAGS" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$TOOLCHAIN_BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$TOOLCHAIN_BIN/pulumi.tmp" "$TOOLCHAIN_BIN/pulumi"
  rm -rf "$work"
}

# The Node.js language host, and the entry point of Node.js policy packs that it
# (or the CLI, without a language host) starts: both ship only in the official
# CLI archive.
install_node_plugins() {
  local name target
  for name in pulumi-language-nodejs pulumi-analyzer-policy; do
    target="$TOOLCHAIN_BIN/$name"
    if ! cmp -s "$CONDUCTOR_ROOT/toolchain/$name.js" "$target"; then
      note "installing $name at $target"
      install -m 0755 "$CONDUCTOR_ROOT/toolchain/$name.js" "$target"
    fi
  done
}

main() {
  command -v go >/dev/null || die "go is needed to build the Pulumi CLI (Go >= 1.26)"
  mkdir -p "$TOOLCHAIN_BIN"
  if [ "$("$TOOLCHAIN_BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    note "pulumi v$PULUMI_VERSION: cached in $TOOLCHAIN_BIN"
  else
    build_cli
  fi
  install_node_plugins
}

main "$@"
