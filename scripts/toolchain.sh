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

# The Node.js language host (toolchain/language-host, Go: it starts in
# milliseconds, the CLI starts it twice per deploy), built once per source and
# version into the cache, and installed next to the CLI whenever the one there
# differs (another checkout may have installed its own).
install_language_host() {
  local sum built work
  sum="$(cat "$CONDUCTOR_ROOT/toolchain/language-host/main.go" "$CONDUCTOR_ROOT"/toolchain/pulumi-cli/go.{mod,sum} |
    sha256sum | cut -c1-16)"
  built="$CONDUCTOR_CACHE/toolchain/language-host-v$PULUMI_VERSION-$sum/pulumi-language-nodejs"
  if [ ! -x "$built" ]; then
    work="$(mktemp -d)"
    cp "$CONDUCTOR_ROOT"/toolchain/pulumi-cli/{go.mod,go.sum,tools.go} "$work/"
    mkdir "$work/language-host"
    cp "$CONDUCTOR_ROOT/toolchain/language-host/main.go" "$work/language-host/"
    step "Building the Node.js language host (toolchain/language-host)"
    mkdir -p "$(dirname "$built")"
    (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "$GO_BUILD_TAGS" \
      -ldflags "-s -w -X main.version=$PULUMI_VERSION" -o "$built.tmp" ./language-host)
    mv "$built.tmp" "$built"
    rm -rf "$work"
  fi
  if ! cmp -s "$built" "$TOOLCHAIN_BIN/pulumi-language-nodejs"; then
    note "installing pulumi-language-nodejs at $TOOLCHAIN_BIN"
    install -m 0755 "$built" "$TOOLCHAIN_BIN/pulumi-language-nodejs.tmp"
    mv "$TOOLCHAIN_BIN/pulumi-language-nodejs.tmp" "$TOOLCHAIN_BIN/pulumi-language-nodejs"
  fi
}

# The entry point of Node.js policy packs that the language host (or the CLI,
# without a language host) starts: it ships only in the official CLI archive.
install_analyzer_entry_point() {
  local target="$TOOLCHAIN_BIN/pulumi-analyzer-policy"
  if ! cmp -s "$CONDUCTOR_ROOT/toolchain/pulumi-analyzer-policy.js" "$target"; then
    note "installing pulumi-analyzer-policy at $target"
    install -m 0755 "$CONDUCTOR_ROOT/toolchain/pulumi-analyzer-policy.js" "$target"
  fi
}

main() {
  command -v go >/dev/null || die "go is needed to build the Pulumi CLI (Go >= 1.26)"
  mkdir -p "$TOOLCHAIN_BIN"
  if [ "$("$TOOLCHAIN_BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    note "pulumi v$PULUMI_VERSION: cached in $TOOLCHAIN_BIN"
  else
    build_cli
  fi
  install_language_host
  install_analyzer_entry_point
}

main "$@"
