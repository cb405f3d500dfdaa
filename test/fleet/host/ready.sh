#!/bin/bash
# ready.sh: exits 0 when this host's daemons all run (dockerd answers; nginx,
# cron, sshd are up; systemd, where it is the init, has finished booting);
# otherwise prints what is not. ready.sh --logs: what to read when a host
# does not come up.
set -uo pipefail
# shellcheck source=/dev/null
. /fleet/run/host.env

if [ "${1:-}" = --logs ]; then
  if [ "$FLEET_INIT" = systemd ]; then
    echo "--- systemctl --failed"
    systemctl --no-pager --failed
    for unit in docker containerd nginx cron ssh; do
      echo "--- journalctl -u $unit"
      journalctl --no-pager -n 15 -u "$unit"
    done
  else
    echo "--- /var/log/dockerd.log"
    tail -n 30 /var/log/dockerd.log
  fi
  echo "--- /var/log/nginx/error.log"
  tail -n 10 /var/log/nginx/error.log
  exit 0
fi

problems=()
if [ "$FLEET_INIT" = systemd ]; then
  state="$(systemctl is-system-running 2>&1)"
  case "$state" in running | degraded) ;; *) problems+=("systemd is $state") ;; esac
  for unit in docker nginx cron ssh; do
    systemctl is-active -q "$unit" || problems+=("$unit.service is $(systemctl is-active "$unit")")
  done
fi
docker info >/dev/null 2>&1 || problems+=("dockerd does not answer")
pgrep -x nginx >/dev/null || problems+=("nginx is not running")
pgrep -x cron >/dev/null || problems+=("cron is not running")
ss -Hltn 'sport = :22' | grep -q . || problems+=("sshd does not listen on port 22")
if [ ${#problems[@]} -gt 0 ]; then
  printf '%s\n' "${problems[@]}"
  exit 1
fi
