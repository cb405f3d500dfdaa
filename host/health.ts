import * as http from "node:http";
import type { CommandCheckSpec, HealthCheckSpec } from "../protocol/requests";
import type { DockerClient } from "./docker";

export type Probe = { healthy: true } | { healthy: false; reason: string };

/** One GET of the health path; healthy means a 2xx answer within the timeout. */
export function probe(port: number, check: HealthCheckSpec): Promise<Probe> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: "127.0.0.1",
        port,
        path: check.path,
        timeout: check.timeoutMs,
        headers: { Connection: "close" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300
            ? { healthy: true }
            : { healthy: false, reason: `HTTP ${status}` },
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${check.timeoutMs}ms`)));
    req.on("error", (err) => resolve({ healthy: false, reason: err.message }));
  });
}

/** What a failed check command printed last, enough to say why (it may print a lot). */
const REASON_CHARS = 200;

/**
 * One run of a command check in the container (Docker exec); healthy means
 * exit 0 within the timeout, with the same timeout as an http probe.
 */
export async function commandProbe(
  docker: Pick<DockerClient, "execInContainer">,
  name: string,
  check: CommandCheckSpec,
): Promise<Probe> {
  const shown = `\`${check.command.join(" ")}\``;
  try {
    const { exitCode, output } = await docker.execInContainer(name, check.command, check.timeoutMs);
    if (exitCode === 0) return { healthy: true };
    if (exitCode === undefined)
      return { healthy: false, reason: `${shown} did not exit within ${check.timeoutMs}ms` };
    const last = output.trim().split("\n").pop()?.slice(-REASON_CHARS);
    return { healthy: false, reason: `${shown} exited with ${exitCode}${last ? `: ${last}` : ""}` };
  } catch (err) {
    return { healthy: false, reason: `${shown} could not run: ${(err as Error).message}` };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
