#!/usr/bin/env bash
# The bare minimum of a zero-downtime swap, to compare conductor against, with
# the same steps conductor cannot skip: start the new containers, wait for their
# health, rewrite the upstream, reload nginx, wait until the old nginx workers
# are gone (they keep proxying to the old containers the requests they
# accepted), stop the old containers (each drains for its own time). No checks,
# no records, no Pulumi.
#   bare-swap.sh <image> <listen port> <replicas>
# It keeps its own containers (label bare-swap) and nginx file between runs.
set -euo pipefail
image="$1" listen="$2" replicas="$3"
conf=/etc/nginx/conf.d/bare-swap.conf
old=$(docker ps -q --filter label=bare-swap)

# PIDs of nginx workers, and how many of the old configuration are still shutting down.
workers() { ps -eo pid=,args= | awk '$2 == "nginx:" && $3 == "worker" && $4 == "process" { print $1 }'; }
draining() { ps -eo args= | grep -c '^nginx: .*is shutting down' || true; }

ports=()
for _ in $(seq 1 "$replicas"); do
  port=$((30000 + RANDOM % 5000))
  docker run -d --label bare-swap -p "127.0.0.1:$port:8080" "$image" >/dev/null
  ports+=("$port")
done
for port in "${ports[@]}"; do
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.02; done
done
{
  echo "upstream bare_swap {"
  for port in "${ports[@]}"; do echo "  server 127.0.0.1:$port;"; done
  echo "}"
  echo "server { listen $listen; location / { proxy_pass http://bare_swap; } }"
} > "$conf"
before=" $(workers | tr '\n' ' ')"
# Quiet unless it fails: nginx says "signal process started" at every reload.
if ! out=$(nginx -s reload 2>&1); then
  echo "$out" >&2
  exit 1
fi
# As host/nginx.ts does: every running worker is a new one, and none drains (10 s at most).
for _ in $(seq 1 200); do
  now=$(workers)
  fresh=1
  for pid in $now; do [[ "$before" == *" $pid "* ]] && fresh=0; done
  [ -n "$now" ] && [ "$fresh" = 1 ] && [ "$(draining)" = 0 ] && break
  sleep 0.05
done
if [ -n "$old" ]; then
  # docker stop stops the containers it is given in parallel.
  docker stop -t 10 $old >/dev/null
  docker rm $old >/dev/null
fi
