// The Pulumi engine never tells a provider that it is gone: a `pulumi up`
// killed with SIGKILL (a CI job cancelled, a lost terminal) left this process
// running for good, re-parented to init, and with it every host's
// `conductor serve` (an ssh session and a Node.js process on each host;
// seen after test/e2e/interrupted.test.ts). So the provider leaves once the
// CLI that started it is no longer its parent. Its hosts' servers see their
// input close, finish the requests they have, and exit.

/** Checks once a second; the timer does not keep the process alive. Returns a stop function. */
export function exitWhenOrphaned(
  proc: Pick<NodeJS.Process, "ppid" | "exit"> = process,
  intervalMs = 1_000,
): () => void {
  const parent = proc.ppid;
  const timer = setInterval(() => {
    if (proc.ppid !== parent) proc.exit(0);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
