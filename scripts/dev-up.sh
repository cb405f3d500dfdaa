#!/usr/bin/env bash
# Quick start, part one: deploy the example service to the `dev` stack on this
# machine (local Docker, local nginx, local state backend) and print its URL.
# Safe to run again: it redeploys only what changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

prepare_machine
local_backend_env

# The example's revision is the git tree hash of its source: it changes when
# the example does, like an app's commit, and not with every commit here.
revision="$(git -C "$CONDUCTOR_ROOT" rev-parse HEAD:examples/hello)"
step "Building the example image at revision $revision"
bash "$CONDUCTOR_ROOT/examples/hello/build.sh" "$revision" | sed 's/^/    /'

cd "$CONDUCTOR_ROOT"
pulumi stack select dev --create --non-interactive >/dev/null
step "Deploying: pulumi up -s dev -c conductor:revision=$revision"
pulumi up --stack dev --yes --non-interactive --skip-preview --config "conductor:revision=$revision"

url="$(pulumi stack output --stack dev localUrls --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0))[0] ?? "")')"
[ -n "$url" ] || die "the dev stack has no nginx-fronted service on this machine"
# "unchanged" does not mean answering: when dockerd has just been started
# (above), the containers it stopped come back only once the supervisor runs,
# which cron's watchdog sees to within a minute. Start it now (nothing happens
# when it runs), then wait for an answer while they boot, for 30 s at most.
step "Making sure conductor supervise runs (it starts stopped containers again)"
/usr/local/bin/conductor supervise --background
step "Checking that the example service answers at $url"
if ! answer="$(curl -fsS --max-time 5 --retry 30 --retry-delay 1 --retry-all-errors "$url" 2>/dev/null)"; then
  die "no answer from $url after 30 s; see \`conductor status\` and \`docker logs <container>\` (README, \"When a deploy fails\")"
fi
note "GET $url -> $answer"
