# shellcheck shell=bash
# Starting and stopping a fleet host's daemons without systemd (h1, h2), the
# way their packages' init scripts would. Sourced by init.sh and service.sh.

# Waits up to $2 tenths of a second for the command in $3... to succeed.
wait_for() {
  local tenths="$1"
  shift
  for _ in $(seq 1 "$tenths"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

daemon_start() {
  case "$1" in
    docker)
      pid_alive /var/run/docker.pid && return 0
      rm -f /var/run/docker.pid
      setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
      wait_for 600 docker info || { echo "dockerd did not come up in 60 s" >&2; return 1; }
      ;;
    nginx)
      pid_alive /run/nginx.pid && return 0
      nginx
      ;;
    cron)
      pid_alive /run/crond.pid && return 0
      cron
      ;;
    ssh)
      pid_alive /run/sshd.pid && return 0
      mkdir -p /run/sshd
      chmod 0755 /run/sshd
      /usr/sbin/sshd
      ;;
    *)
      echo "unknown daemon $1" >&2
      return 2
      ;;
  esac
}

# Stops the daemon (its main process: like `systemctl stop`, open SSH sessions
# stay) and waits up to 20 s for it to be gone.
daemon_stop() {
  local pidfile
  case "$1" in
    docker) pidfile=/var/run/docker.pid ;;
    nginx) pidfile=/run/nginx.pid ;;
    cron) pidfile=/run/crond.pid ;;
    ssh) pidfile=/run/sshd.pid ;;
    *)
      echo "unknown daemon $1" >&2
      return 2
      ;;
  esac
  pid_alive "$pidfile" || return 0
  local pid
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  wait_for 200 sh -c "! kill -0 $pid" || echo "$1 (pid $pid) did not stop in 20 s" >&2
  rm -f "$pidfile"
}
