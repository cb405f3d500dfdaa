// How many times this machine's nginx reloaded while something ran: each
// reload starts a new generation of workers (children of the master named in
// /run/nginx.pid, titled "nginx: worker process"), which live at least until
// the next one; the deploy waits for the old ones after each reload, so a
// sampler every 20 ms sees every generation whole.
import * as fs from "node:fs";

const MASTER_PID_FILE = "/run/nginx.pid";

function workers(master: number): Set<number> {
  const pids = new Set<number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so read after its ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== master) continue;
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0+$/, "");
      if (title.trim() === "nginx: worker process") pids.add(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** What `during` gave, and the nginx reloads it caused (new worker pids / workers per generation). */
export async function nginxReloadsDuring<T>(
  during: () => Promise<T>,
): Promise<{ result: T; reloads: number }> {
  const master = Number(fs.readFileSync(MASTER_PID_FILE, "utf8").trim());
  const initial = workers(master);
  if (initial.size === 0) throw new Error(`nginx (master ${master}) has no workers`);
  const seen = new Set<number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of workers(master)) if (!initial.has(pid)) seen.add(pid);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const result = await during();
    return { result, reloads: seen.size / initial.size };
  } finally {
    sampling = false;
    await sampler;
  }
}
