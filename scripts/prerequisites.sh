#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the dev stack and the tests
# need on this machine: Docker Engine, nginx, cron, an SSH server, a static
# busybox for the example image, shellcheck for the workflows' scripts. Idempotent: it installs
# only what is missing and starts only what is not running. There is no
# systemd here, so daemons are started directly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(docker.io nginx cron openssh-server openssh-client busybox-static curl procps shellcheck debootstrap apache2-utils openssl)

install_missing_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "packages: all present"
    return
  fi
  step "Installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "installing packages needs root"
  export DEBIAN_FRONTEND=noninteractive
  local log
  log="$(mktemp)"
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get install failed"
  fi
  rm -f "$log"
}

# Replaces the (sub)shell with a daemon holding no descriptor but stdin,
# stdout and stderr; call it in a subshell. A lock its caller holds
# (prepare_machine's flock, `flock /tmp/conductor-machine.lock`) stays held as
# long as any process has the descriptor open: a daemon that inherited one
# held it for as long as it ran, and every later caller waited forever (seen:
# dockerd, nginx and cron holding prepare-machine.lock).
exec_detached() {
  for fd in /proc/"$BASHPID"/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  exec "$@"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then note "dockerd: running"; return; fi
  step "Starting dockerd"
  (exec_detached setsid nohup dockerd >/var/log/dockerd.log 2>&1 < /dev/null) &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return; sleep 0.5; done
  tail -20 /var/log/dockerd.log >&2
  die "dockerd did not come up (log: /var/log/dockerd.log)"
}

start_nginx() {
  if pgrep -x nginx >/dev/null; then note "nginx: running"; return; fi
  step "Starting nginx"
  nginx -t -q || die "nginx -t fails: fix /etc/nginx before deploying"
  (exec_detached nginx)
}

start_cron() {
  if pgrep -x cron >/dev/null; then note "cron: running"; return; fi
  step "Starting cron"
  (exec_detached cron)
}

start_sshd() {
  if pgrep -x sshd >/dev/null; then note "sshd: running"; return; fi
  step "Starting sshd"
  mkdir -p /run/sshd
  [ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A >/dev/null
  (exec_detached /usr/sbin/sshd)
}

check_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$major" -ge 20 ] || die "Node.js >= 20 is needed (found: $(node --version 2>/dev/null || echo none))"
}

main() {
  step "Checking machine prerequisites"
  check_node
  install_missing_packages
  start_dockerd
  start_nginx
  start_cron
  start_sshd
}

main "$@"
