// `conductor nginx apply|remove`: install a service's nginx file, check the
// whole configuration, reload, and wait for the old workers to finish.
import * as fs from "node:fs";
import { exec, execOk } from "./exec";
import { sleep } from "./health";
import { withHostLock } from "./lock";
import { nginxConf } from "./paths";
import type { NginxApplyRequest, ServiceRequest } from "../protocol/requests";
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

export async function nginxRemove(req: ServiceRequest, log: (line: string) => void): Promise<void> {
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
  const before = new Set(nginxWorkers().running);
  await execOk("nginx", ["-s", "reload"]);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const { running, draining } = nginxWorkers();
    const allNew = running.length > 0 && running.every((pid) => !before.has(pid));
    if (allNew && draining === 0) return;
    await sleep(50);
  }
  log(`nginx: old workers still draining after ${DRAIN_TIMEOUT_MS / 1000}s, going on`);
}

/** nginx's workers, from one look at /proc: those serving, and how many are shutting down. */
function nginxWorkers(): { running: number[]; draining: number } {
  const workers = { running: [] as number[], draining: 0 };
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      continue; // exited while we looked
    }
    if (title === "nginx: worker process") workers.running.push(Number(entry));
    else if (title.startsWith("nginx: ") && title.includes("is shutting down")) workers.draining++;
  }
  return workers;
}
