#!/bin/bash
# PID 1 of a fleet host without systemd (h1, h2): starts dockerd, nginx, cron
# and sshd at every boot, reaps orphans, and on SIGTERM (docker stop, docker
# restart) stops them, dockerd first and cleanly, as a host's shutdown would.
set -u
# shellcheck source=test/fleet/host/daemons.sh
. /fleet/daemons.sh

shutdown() {
  echo "fleet-init: shutting down"
  for daemon in ssh cron nginx docker; do daemon_stop "$daemon"; done
  exit 0
}
trap shutdown TERM INT

echo "fleet-init: booting $(hostname)"
for daemon in docker nginx cron ssh; do
  daemon_start "$daemon" || echo "fleet-init: $daemon did not start"
done
echo "fleet-init: up"
# A background sleep, so the trap runs as soon as a signal comes; bash reaps
# every child it is given, orphans included, whenever one exits.
while :; do
  sleep 3600 &
  wait $!
done
