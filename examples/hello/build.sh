#!/usr/bin/env bash
# Builds the example image as conductor-hello:<revision>.
#   build.sh <revision> [--unhealthy | --crash-at-boot] [--boot-delay D] [--drain D]
# --unhealthy: /health always answers 503 (a deploy of it must fail).
# --crash-at-boot: the server exits at once (for supervision tests).
# --boot-delay D: the server listens only after D (a Go duration: 1.5s), like an
#   app that loads for a while; the container env BOOT_DELAY overrides it.
# --drain D: on SIGTERM the server keeps serving for D before it shuts down,
#   like an app behind a load balancer that drains; env DRAIN_TIME overrides it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
usage="usage: build.sh <revision> [--unhealthy | --crash-at-boot] [--boot-delay D] [--drain D]"
revision="${1:?$usage}"
shift
repository="${IMAGE_REPOSITORY:-conductor-hello}"
args=(--build-arg "REVISION=$revision")
while [ $# -gt 0 ]; do
  case "$1" in
    --unhealthy) args+=(--build-arg HEALTH=fail) ;;
    --crash-at-boot) args+=(--build-arg CRASH_AT_BOOT=1) ;;
    --boot-delay) args+=(--build-arg "BOOT_DELAY=${2:?$usage}"); shift ;;
    --drain) args+=(--build-arg "DRAIN_TIME=${2:?$usage}"); shift ;;
    *) echo "unknown option $1; $usage" >&2; exit 2 ;;
  esac
  shift
done

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/rootfs/bin" "$context/rootfs/app/bin" "$context/rootfs/tmp"
chmod 1777 "$context/rootfs/tmp"
# Debian's busybox-static: a busybox that runs with no libc in the image.
busybox="$(command -v busybox || true)"
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build.sh needs a static busybox: apt-get install busybox-static" >&2
  exit 1
fi
cp "$busybox" "$context/rootfs/bin/busybox"
(cd "$here/server" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$context/rootfs/app/bin/hello" .)
install -m 0755 "$here/generate-cron" "$context/rootfs/app/bin/generate-cron"
install -m 0755 "$here/hello-task" "$context/rootfs/app/bin/hello-task"
cp "$here/Dockerfile" "$context/"
# The legacy builder needs no buildx plugin; its deprecation notice is noise here.
if ! DOCKER_BUILDKIT=0 docker build -q "${args[@]}" -t "$repository:$revision" "$context" >/dev/null 2>"$context/build.log"; then
  cat "$context/build.log" >&2
  exit 1
fi
echo "$repository:$revision"
