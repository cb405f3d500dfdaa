// Builds the host command into one self-contained file, the thing the deploy
// copies to /usr/local/bin/conductor on every host (hosts need only Node.js).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import type { HostBundle } from "../components/host";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const HOST_BUNDLE = path.join(PROJECT_ROOT, "dist", "conductor-host.js");

export function sha256(content: string | Buffer): string {
  return crypto.createHash("sha256").update(content).digest("hex");
}

export function buildHostBundle(): HostBundle {
  const result = buildSync({
    entryPoints: [path.join(PROJECT_ROOT, "host", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    write: false,
    banner: { js: "#!/usr/bin/env node" },
    logLevel: "error",
  });
  const code = result.outputFiles[0].text;
  fs.mkdirSync(path.dirname(HOST_BUNDLE), { recursive: true });
  // Several processes may build at once (program and provider): write atomically.
  const tmp = `${HOST_BUNDLE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code, { mode: 0o755 });
  fs.renameSync(tmp, HOST_BUNDLE);
  return { path: HOST_BUNDLE, sha256: sha256(code) };
}
