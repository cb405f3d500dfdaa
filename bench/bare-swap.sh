#!/usr/bin/env bash
# The bare minimum of a zero-downtime swap, to compare conductor against:
# start the new containers, wait for their health, rewrite the upstream,
# reload nginx, stop the old containers. No checks, no records, no Pulumi.
#   bare-swap.sh <image> <listen port> <replicas>
# It keeps its own containers (label bare-swap) and nginx file between runs.
set -euo pipefail
image="$1" listen="$2" replicas="$3"
conf=/etc/nginx/conf.d/bare-swap.conf
old=$(docker ps -q --filter label=bare-swap)

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
nginx -s reload
[ -z "$old" ] || docker stop -t 10 $old >/dev/null
[ -z "$old" ] || docker rm $old >/dev/null
