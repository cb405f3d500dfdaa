#!/usr/bin/env bash
# Builds the test fleet's host image from Debian's packages with debootstrap
# (no image registry is reachable here), once: the image is named
# conductor-fleet-host:<key>, where the key is a hash of this script (which
# holds the package list and every change made to the root file system), so an
# unchanged image is never rebuilt. The root file system is also kept as a
# tarball under $CONDUCTOR_CACHE/fleet/, so a removed image comes back in
# seconds. Prints the image's name as the last line of stdout; progress goes
# to stderr.
#   build-image.sh            build if needed, print the image
#   build-image.sh --key      print the image name only, build nothing
set -euo pipefail

SUITE=bookworm
MIRROR="${CONDUCTOR_FLEET_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=(
  # a Docker host, as conductor expects one
  docker.io nginx-light cron openssh-server nodejs iproute2 iptables procps ca-certificates curl
  # h3 boots systemd
  systemd systemd-sysv dbus
  # the fleet's private registry runs from this image too
  docker-registry
)

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
key="$(sha256sum "$self" | cut -c1-16)"
image="conductor-fleet-host:$key"
cache="${CONDUCTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conductor}/fleet"
tarball="$cache/host-$key.tar"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = --key ]; then echo "$image"; exit 0; fi

have_image() { docker image inspect "$image" >/dev/null 2>&1; }
if have_image; then echo "$image"; exit 0; fi

mkdir -p "$cache"
# One build at a time on this machine; whoever waited finds the image made.
exec 9>"$cache/build.lock"
flock 9
if have_image; then echo "$image"; exit 0; fi

import_tarball() {
  docker import --change 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
}

# What debootstrap mounted in a root file system (/proc, /sys, /dev/pts), deepest first.
unmount_under() {
  awk -v dir="$1/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}
# An earlier build that was killed left its work directory (we hold the lock).
for stale in "${TMPDIR:-/tmp}"/conductor-fleet-image-*; do
  [ -d "$stale" ] || continue
  unmount_under "$stale"
  rm -rf --one-file-system "$stale"
done

if [ -s "$tarball" ]; then
  say "Importing the fleet host image from $tarball"
  import_tarball
  echo "$image"
  exit 0
fi

command -v debootstrap >/dev/null || die "debootstrap is missing: run scripts/prerequisites.sh"
say "Building the fleet host image $image (about 2 minutes, once)"
started=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/conductor-fleet-image-XXXXXX")"
rootfs="$work/rootfs"
cleanup() {
  # Daemons a package's postinst might have started inside the chroot.
  for proc in /proc/[0-9]*; do
    if [ "$(readlink "$proc/root" 2>/dev/null)" = "$rootfs" ]; then kill -9 "${proc#/proc/}" 2>/dev/null || true; fi
  done
  unmount_under "$work"
  rm -rf --one-file-system "$work" "$tarball.partial"
}
trap cleanup EXIT

include="$(IFS=,; echo "${PACKAGES[*]}")"
note "debootstrap --variant=minbase $SUITE from $MIRROR"
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
  tail -40 "$work/debootstrap.log" >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -40 "$rootfs/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (see above)"
fi
note "debootstrap: $((SECONDS - started)) s"

# --- what a fleet host needs that the packages do not set up ----------------
# Debian's default site holds port 80, which conductor's nginx files listen on.
rm -f "$rootfs/etc/nginx/sites-enabled/default"
# Each host makes its own SSH host keys and machine id at its first boot.
rm -f "$rootfs"/etc/ssh/ssh_host_*
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# Package caches: not needed at run time.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# Keys only; DNS lookups of clients would only slow logins down.
cat >"$rootfs/etc/ssh/sshd_config.d/fleet.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF
# systemd in a container: no consoles, no udev, no kernel file systems to
# mount or remount; and raising limits needs CAP_SYS_RESOURCE, which this
# machine cannot give, so the units keep the limits they inherit.
for unit in getty@tty1.service console-getty.service systemd-remount-fs.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
  systemd-firstboot.service systemd-sysctl.service proc-sys-fs-binfmt_misc.automount \
  systemd-binfmt.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
for unit in docker containerd; do
  mkdir -p "$rootfs/etc/systemd/system/$unit.service.d"
  cat >"$rootfs/etc/systemd/system/$unit.service.d/fleet.conf" <<'EOF'
[Service]
LimitNOFILE=
LimitNPROC=
LimitCORE=
OOMScoreAdjust=
EOF
done
mkdir -p "$rootfs/etc/systemd/system.conf.d"
cat >"$rootfs/etc/systemd/system.conf.d/fleet.conf" <<'EOF'
[Manager]
DefaultLimitNOFILE=
DefaultLimitMEMLOCK=
EOF
# The registry container runs docker-registry by hand, not as a service.
ln -sf /dev/null "$rootfs/etc/systemd/system/docker-registry.service"
for unit in docker.service containerd.service nginx.service cron.service ssh.service; do
  [ -e "$rootfs/etc/systemd/system/multi-user.target.wants/$unit" ] ||
    ln -sf "/lib/systemd/system/$unit" "$rootfs/etc/systemd/system/multi-user.target.wants/$unit"
done

note "importing into Docker"
tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
import_tarball
# Older keys' tarballs and images are of no use any more (an image a
# container still uses stays).
for old in "$cache"/host-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
docker image ls conductor-fleet-host --format '{{.Repository}}:{{.Tag}}' | while read -r old; do
  [ "$old" = "$image" ] || docker image rm "$old" >/dev/null 2>&1 || true
done
note "built $image in $((SECONDS - started)) s ($(du -sh "$tarball" | cut -f1))"
echo "$image"
