#!/bin/bash
# Manual check, not run by jest (needs root, unshare and Debian's cron; takes about a minute).
# Runs same-meaning.crontab twice under a private cron in a private mount namespace: once as a
# plain cron.d file, once wrapped by wrapCrontab with a stand-in for `conductor run` that runs the
# job locally. Every job writes a file; the wrapped job must write exactly what the plain one did.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/crontab-check.XXXXXX)
mkdir -p "$work/cron.d" "$work/spool" "$work/out"
: > "$work/crontab"; : > "$work/crond.pid"

cat > "$work/conductor" <<'SH'
#!/bin/sh
# Stands in for `conductor run`: drops its options up to --, runs the rest with TAG=wrapped.
while [ "$1" != "--" ]; do shift; done; shift
TAG=wrapped exec "$@"
SH
chmod 755 "$work/conductor"

sed "s#\$CHECK_OUT#$work/out#" "$here/same-meaning.crontab" > "$work/input"
# The plain file: the same lines with cron.d's user field.
sed -E 's/^(\* \* \* \* \*) /\1 root /' "$work/input" > "$work/cron.d/plain"
(cd "$root" && node -r esbuild-register -e "
  const fs = require('fs');
  const { wrapCrontab, formatProblems } = require('./host/crontab');
  const r = wrapCrontab(fs.readFileSync('$work/input', 'utf8'), {
    serviceId: 'check', revision: '0000000', allowOverlap: false, conductorPath: '$work/conductor' });
  if (!r.ok) { console.error(formatProblems(r.problems)); process.exit(1); }
  fs.writeFileSync('$work/cron.d/wrapped', r.file);
")
chmod 644 "$work"/cron.d/*

secs=$((65 - $(date +%-S)))
echo "running cron for ${secs}s in $work"
unshare -m --propagation private bash -c "
  mount --bind '$work/cron.d' /etc/cron.d
  mount --bind '$work/spool' /var/spool/cron/crontabs
  mount --bind '$work/crontab' /etc/crontab
  mount --bind '$work/crond.pid' /run/crond.pid
  timeout $secs cron -f -L 15 || true
"
status=0
for plain in "$work"/out/orig-*; do
  n=${plain##*-}
  if cmp -s "$plain" "$work/out/wrapped-$n"; then echo "job $n: same"; else echo "job $n: DIFFERENT"; status=1; fi
done
[ -e "$work/out/orig-1" ] || { echo "no job ran"; status=1; }
exit $status
