#!/bin/bash
# The command of a fleet host container, at every boot: puts this run's SSH
# key, test CA and Docker daemon settings in place (they live in /fleet/run,
# copied in by the harness before the first start), then becomes the host's
# init: systemd (h3) or init.sh (h1, h2).
set -euo pipefail
# shellcheck source=/dev/null
. /fleet/run/host.env

install -d -m 0700 /root/.ssh
install -m 0600 /fleet/run/authorized_keys /root/.ssh/authorized_keys
[ -e /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A >/dev/null
# The registry's certificate, for the Docker daemon and for curl alike.
install -d "/etc/docker/certs.d/$FLEET_REGISTRY"
install -m 0644 /fleet/run/ca.crt "/etc/docker/certs.d/$FLEET_REGISTRY/ca.crt"
if ! cmp -s /fleet/run/ca.crt /usr/local/share/ca-certificates/conductor-fleet-ca.crt; then
  install -m 0644 /fleet/run/ca.crt /usr/local/share/ca-certificates/conductor-fleet-ca.crt
  update-ca-certificates >/dev/null 2>&1
fi
# vfs: overlay on overlay does not work; a cgroup parent of its own, so this
# host's containers do not share cgroup names with other hosts'.
printf '{"storage-driver": "vfs", "cgroup-parent": "%s"}\n' "$FLEET_CGROUP_PARENT" >/etc/docker/daemon.json

if [ "$FLEET_INIT" = systemd ]; then
  exec /lib/systemd/systemd
fi
exec /fleet/init.sh
