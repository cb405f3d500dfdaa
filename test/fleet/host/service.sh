#!/bin/bash
# service.sh <docker|nginx|cron|ssh> <start|stop>: a daemon of this host, by
# systemctl where systemd is the init (h3), by hand elsewhere.
set -euo pipefail
# shellcheck source=/dev/null
. /fleet/run/host.env
case "$2" in start | stop) ;; *) echo "usage: service.sh <daemon> <start|stop>" >&2; exit 2 ;; esac
if [ "$FLEET_INIT" = systemd ]; then
  exec systemctl "$2" "$1"
fi
# shellcheck source=test/fleet/host/daemons.sh
. /fleet/daemons.sh
"daemon_$2" "$1"
