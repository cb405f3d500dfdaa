// SSH to this machine as root with a throwaway key, so the remote path of the
// deploy runs for real (sshd, the OpenSSH client, key auth) against 127.0.0.1.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "./harness";

const AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";

export interface SshKey {
  privateKey: string;
  remove(): void;
}

export async function authorizeTestKey(label: string): Promise<SshKey> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-ssh-"));
  const keyFile = path.join(dir, "id_ed25519");
  const marker = `conductor-e2e-${label}-${process.pid}`;
  const gen = await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    marker,
    "-f",
    keyFile,
  ]);
  if (gen.code !== 0) throw new Error(`ssh-keygen failed: ${gen.output}`);
  fs.mkdirSync(path.dirname(AUTHORIZED_KEYS), { recursive: true, mode: 0o700 });
  fs.appendFileSync(AUTHORIZED_KEYS, fs.readFileSync(`${keyFile}.pub`, "utf8"), { mode: 0o600 });
  const privateKey = fs.readFileSync(keyFile, "utf8");
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    privateKey,
    remove() {
      const kept = fs
        .readFileSync(AUTHORIZED_KEYS, "utf8")
        .split("\n")
        .filter((l) => !l.includes(marker));
      fs.writeFileSync(AUTHORIZED_KEYS, kept.join("\n"));
    },
  };
}
