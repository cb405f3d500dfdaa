// The Pulumi engine never tells a provider that it is gone: a `pulumi up`
// killed with SIGKILL (a CI job cancelled, a lost terminal) left this process
// running for good, re-parented to init, and with it every host's
// `conductor serve` (an ssh session and a Node.js process on each host;
// seen after test/e2e/interrupted.test.ts). So the provider leaves once the
// CLI that started it is no longer its parent, or once the engine no longer
// takes connections: a CLI killed while the provider was still starting left
// it with init as the parent it remembered (one still running 8 minutes after
// an e2e run here). Its hosts' servers see their input close, finish the
// requests they have, and exit.
import * as net from "node:net";

/** Checks once a second; the timer does not keep the process alive. Returns a stop function. */
export function exitWhenOrphaned(
  proc: Pick<NodeJS.Process, "ppid" | "exit"> = process,
  intervalMs = 1_000,
  engineAddress?: string,
): () => void {
  const parent = proc.ppid;
  let asking = false;
  const timer = setInterval(() => {
    if (proc.ppid !== parent) proc.exit(0);
    if (!engineAddress || asking) return;
    asking = true;
    engineRefuses(engineAddress).then((refused) => {
      asking = false;
      if (refused) proc.exit(0);
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Whether nothing listens at the engine's address any more (host:port). */
function engineRefuses(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(":");
  const socket = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon));
  socket.unref();
  return new Promise((resolve) => {
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}
