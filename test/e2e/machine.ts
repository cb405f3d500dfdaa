// What e2e tests observe of this machine beside Docker: its processes, and
// the address on Docker's default bridge that containers reach it at.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { get } from "./docker";
import { run, type RunResult } from "./harness";

/** Every distinct process command line on this machine while `during` runs (sampled every 20 ms). */
export async function commandLinesDuring(
  during: () => Promise<RunResult>,
): Promise<{ result: RunResult; lines: Set<string> }> {
  const lines = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const line of execFileSync("ps", ["-eo", "args", "--no-headers"]).toString().split("\n"))
        lines.add(line);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await during();
  sampling = false;
  await sampler;
  return { result, lines };
}

/**
 * This machine's address on docker0, which containers reach. Asked of ip(8):
 * os.networkInterfaces() leaves docker0 out while no container is attached to it.
 */
export async function dockerBridgeAddress(): Promise<string> {
  const docker0 = await run("ip", ["-4", "-o", "addr", "show", "dev", "docker0"]);
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(docker0.stdout)?.[1];
  if (!address) throw new Error(`no IPv4 address on docker0: ${docker0.output}`);
  return address;
}

/** The host port conductor recorded for a deployed container (its record under /var/lib/conductor). */
export const hostPortOf = (name: string): number =>
  (
    JSON.parse(fs.readFileSync(`/var/lib/conductor/containers/${name}.json`, "utf8")) as {
      hostPort: number;
    }
  ).hostPort;

/** Whether the example app on this host port answers its health check. */
export const answersHealth = async (port: number) =>
  (await get(`http://127.0.0.1:${port}/health`)).status === 200;
