#!/usr/bin/env bash
# The bare minimum of a zero-downtime swap, to compare conductor against, with
# the same steps conductor cannot skip: start the new containers (all at once,
# as conductor does), wait for their health, rewrite each service's upstream,
# reload nginx once, wait until the old nginx workers are gone (they keep
# proxying to the old containers the requests they accepted), stop the old
# containers (each drains for its own time). No checks, no records, no Pulumi.
#   bare-swap.sh <image> <first listen port> <replicas> [services, default 1] [name, default <services>]
# Service i listens on <first listen port> + i. The containers (label
# bare-swap=<name>) and nginx files (bare-swap-<name>-<i>.conf) of a swap are
# kept until the next swap of that name, so swaps of 1 and of 10 services (or
# of other names) live side by side.
set -euo pipefail
image="$1" listen="$2" replicas="$3" services="${4:-1}" name="${5:-${4:-1}}"

# Each replica has a slot, its container's port is its service's listen port +
# 12000 + 100 x slot (30000 and up: above conductor's 20000-29999, below the
# kernel's ephemeral ports). The new containers take the slots the old ones do
# not hold (0 to replicas-1, or replicas to 2 x replicas-1): no port is ever
# taken twice, whatever the listen ports of other swaps within 100 of these.
old=() old_slot=""
while read -r id slot; do old+=("$id") old_slot=$slot; done < <(
  docker ps --filter "label=bare-swap=$name" --format '{{.ID}} {{.Label "bare-swap.first-slot"}}'
)
first_slot=0
[ "$old_slot" = 0 ] && first_slot=$replicas
port() { echo $((listen + $1 + 12000 + 100 * (first_slot + $2))); }

# PIDs of nginx workers, and how many of the old configuration are still shutting down.
workers() { ps -eo pid=,args= | awk '$2 == "nginx:" && $3 == "worker" && $4 == "process" { print $1 }'; }
draining() { ps -eo args= | grep -c '^nginx: .*is shutting down' || true; }

starts=()
for i in $(seq 0 $((services - 1))); do
  for r in $(seq 0 $((replicas - 1))); do
    docker run -d --label "bare-swap=$name" --label "bare-swap.first-slot=$first_slot" \
      -p "127.0.0.1:$(port "$i" "$r"):8080" "$image" >/dev/null &
    starts+=($!)
  done
done
for pid in "${starts[@]}"; do wait "$pid"; done # fails (set -e) if a docker run did
for i in $(seq 0 $((services - 1))); do
  for r in $(seq 0 $((replicas - 1))); do
    until curl -fs -o /dev/null "http://127.0.0.1:$(port "$i" "$r")/health"; do sleep 0.02; done
  done
done
for i in $(seq 0 $((services - 1))); do
  {
    echo "upstream bare_swap_${name}_$i {"
    for r in $(seq 0 $((replicas - 1))); do echo "  server 127.0.0.1:$(port "$i" "$r");"; done
    echo "}"
    echo "server { listen $((listen + i)); location / { proxy_pass http://bare_swap_${name}_$i; } }"
  } >"/etc/nginx/conf.d/bare-swap-$name-$i.conf"
done
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
if [ "${#old[@]}" -gt 0 ]; then
  # docker stop stops the containers it is given in parallel.
  docker stop -t 10 "${old[@]}" >/dev/null
  docker rm "${old[@]}" >/dev/null
fi
