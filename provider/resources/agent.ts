// fleet:index:Agent — the `conductor` command on a host. Installing checks the
// host has what conductor needs, then replaces /usr/local/bin/conductor
// atomically. A new bundle is an update, never a replacement (a replacement's
// late delete would remove the file). Deleting leaves the command in place:
// other stacks on the host may use it, and it is inert on its own.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { reveal } from "../secrets";
import type { Connection } from "../../protocol/connection";
import { CONDUCTOR_BIN } from "../../protocol/rules";
import { runOnHost } from "../transport";
import { diffWith } from "./diff";
import type { ResourceHandler } from "./types";

// Supervision (README: "Supervision"): a systemd unit that restarts the supervisor
// when it dies, where systemd runs; elsewhere cron starts it every minute
// unless one runs. Either way the running one is replaced by the new version.
const SUPERVISION_SCRIPT = `
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  cat > /etc/systemd/system/conductor-supervise.service <<'UNIT'
[Unit]
Description=conductor supervise: keep deployed containers running and healthy
After=docker.service
Wants=docker.service

[Service]
ExecStart=${CONDUCTOR_BIN} supervise
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --quiet conductor-supervise.service
  systemctl restart conductor-supervise.service
else
  printf '%s\\n' '# Installed by conductor: starts conductor supervise unless it runs (no systemd here).' \\
    '* * * * * root ${CONDUCTOR_BIN} supervise --background >/dev/null 2>&1' > /etc/cron.d/conductor-supervise.tmp
  mv -f /etc/cron.d/conductor-supervise.tmp /etc/cron.d/conductor-supervise
  ${CONDUCTOR_BIN} supervise --restart
fi
`;

// A fixed script: no value from config is in it.
const INSTALL_SCRIPT = `
missing=""
for tool in docker nginx node crontab; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
if [ -n "$missing" ]; then echo "missing on this host:$missing (conductor needs Docker, nginx, cron and Node.js >= 18)" >&2; exit 3; fi
set -e
umask 022
tmp="${CONDUCTOR_BIN}.$$.tmp"
cat > "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "${CONDUCTOR_BIN}"
${SUPERVISION_SCRIPT}`;

async function install(inputs: Record<string, unknown>): Promise<void> {
  const bundlePath = String(inputs.bundlePath);
  const code = fs.readFileSync(bundlePath);
  if (crypto.createHash("sha256").update(code).digest("hex") !== inputs.bundleSha256) {
    throw new Error(`${bundlePath} changed while deploying; run the deploy again`);
  }
  await runOnHost(
    reveal<Connection>(inputs.connection),
    ["sh", "-c", INSTALL_SCRIPT],
    code.toString("utf8"),
  );
}

export const agentHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, [], ["bundleSha256"]),

  async create(inputs) {
    await install(inputs);
    return { id: reveal<Connection>(inputs.connection).host, outs: inputs };
  },

  async update(_olds, news) {
    await install(news);
    return { outs: news };
  },

  async delete() {},
};
