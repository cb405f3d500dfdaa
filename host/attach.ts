import { spawn } from "node:child_process";

/**
 * `docker start --attach --interactive`: stdin, stdout, stderr and the TTY
 * pass through. Signals do not go through the CLI: it forwards one and exits
 * at once with status 0, dropping the task's last output and exit code (seen
 * with docker 28). `conductor run` sends them with the API and gets the exit
 * code from Docker (run.ts). Without a TTY the CLI gets its own process
 * group, so a Ctrl-C in the terminal reaches only us; with one, Ctrl-C is a
 * keystroke the CLI must read from the terminal, in the foreground.
 */
export function attach(name: string, interactive: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["start", "--attach", "--interactive", name], {
      stdio: "inherit",
      detached: !interactive,
    });
    child.on("error", reject);
    child.on("close", () => resolve());
  });
}
