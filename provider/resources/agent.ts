// fleet:index:Agent — the `conductor` command on a host. Installing checks the
// host has what conductor needs, then replaces /usr/local/bin/conductor
// atomically. A new bundle is an update, never a replacement (a replacement's
// late delete would remove the file). Deleting leaves the command in place:
// other stacks on the host may use it, and it is inert on its own.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { z } from "zod";
import { connectionSchema } from "../../protocol/connection";
import { RESOURCE_TYPES } from "../../protocol/names";
import { CONDUCTOR_BIN, HOST_PATH } from "../../protocol/rules";
import type { Connection } from "../../protocol/connection";
import type { RunOnHost } from "../transport";
import { diffWith } from "./diff";
import { GONE } from "./observed";
import { connectionOnly, read } from "./read";
import type { ResourceHandler } from "./types";

const TYPE = RESOURCE_TYPES.agent;

/** The connection and the built host command on this machine (tooling/host-bundle.ts). */
const inputs = z.strictObject({
  connection: connectionSchema,
  bundlePath: z.string().min(1),
  bundleSha256: z.string().regex(/^[0-9a-f]{64}$/, "expected a SHA-256 in hex"),
});

// Supervision (README: "Supervision"): a systemd unit that restarts the supervisor
// when it dies, where systemd runs; elsewhere cron starts it at boot (not at
// the next minute: containers must serve within 60 s of a reboot) and every
// minute unless one runs. Either way the running one is replaced by the new version.
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
    'PATH=${HOST_PATH}' \\
    '@reboot root ${CONDUCTOR_BIN} supervise --background >/dev/null 2>&1' \\
    '* * * * * root ${CONDUCTOR_BIN} supervise --background >/dev/null 2>&1' > /etc/cron.d/conductor-supervise.tmp
  mv -f /etc/cron.d/conductor-supervise.tmp /etc/cron.d/conductor-supervise
  ${CONDUCTOR_BIN} supervise --restart
fi
`;

// A fixed script: no value from config is in it.
export const INSTALL_SCRIPT = `
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

/**
 * Where the host's conductor reads itself (the Agent's read): the SHA-256 of
 * the installed command, or "missing". A fixed script, without conductor, so
 * it answers where conductor is gone.
 */
export const INSTALLED_SCRIPT = `if [ -f ${CONDUCTOR_BIN} ] && [ -x ${CONDUCTOR_BIN} ]; then sha256sum < ${CONDUCTOR_BIN}; else echo missing; fi`;

/** The SHA-256 of the host's conductor, or undefined when there is none. */
export async function installedSha256(
  connection: Connection,
  run: RunOnHost,
): Promise<string | undefined> {
  const out = (await run(connection, ["sh", "-c", INSTALLED_SCRIPT], "")).trim();
  if (out === "missing") return undefined;
  const sha = /^[0-9a-f]{64}\b/.exec(out)?.[0];
  if (!sha) throw new Error(`host ${connection.host}: cannot tell the SHA-256 of ${CONDUCTOR_BIN}`);
  return sha;
}

/** Installs the bundle the inputs name, if it is still the one they name. */
async function install(raw: Record<string, unknown>, run: RunOnHost): Promise<string> {
  const { connection, bundlePath, bundleSha256 } = read(inputs, TYPE, "inputs", raw);
  const code = fs.readFileSync(bundlePath);
  if (crypto.createHash("sha256").update(code).digest("hex") !== bundleSha256) {
    throw new Error(`${bundlePath} changed while deploying; run the deploy again`);
  }
  await run(connection, ["sh", "-c", INSTALL_SCRIPT], code.toString("utf8"));
  return connection.host;
}

export const agentHandler: ResourceHandler = {
  diff: (olds, news) => diffWith(olds, news, [], ["bundleSha256"]),

  async create(raw, run) {
    return { id: await install(raw, run), outs: raw };
  },

  async update(_olds, news, run) {
    await install(news, run);
    return { outs: news };
  },

  async delete() {},

  // The command as installed, read without it (it may be gone): a missing one
  // reads as gone (the next `up` installs it), another one as its SHA-256,
  // which diff compares with the bundle's.
  async read(id, state, run) {
    const { connection } = read(connectionOnly, TYPE, "state", state);
    const installed = await installedSha256(connection, run);
    if (installed === undefined) return GONE;
    return { id, props: { ...state, bundleSha256: installed } };
  },
};
