// What the tests observe on this machine, through the real tools.
import * as fs from "node:fs";
import { run } from "./harness";

export async function containersOf(serviceId: string): Promise<{ name: string; state: string }[]> {
  const result = await run("docker", [
    "ps",
    "-a",
    "--filter",
    `label=conductor.service=${serviceId}`,
    "--format",
    "{{.Names}} {{.State}}",
  ]);
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, state] = line.split(" ");
      return { name, state };
    });
}

export async function buildExample(
  revision: string,
  variant?: "--unhealthy" | "--crash-at-boot",
): Promise<void> {
  const result = await run(
    "bash",
    ["examples/hello/build.sh", revision, ...(variant ? [variant] : [])],
    { cwd: `${__dirname}/../..` },
  );
  if (result.code !== 0) throw new Error(`building the example image failed:\n${result.output}`);
}

/** curl's argv for one GET that prints the body, then the status on a line of its own. */
export const curlGet = (url: string) => [
  "curl",
  "-sS",
  "--max-time",
  "5",
  "-o",
  "-",
  "-w",
  "\n%{http_code}",
  url,
];

/** What curlGet printed, as status and body. */
export function parseCurlGet(stdout: string): { status: number; body: string } {
  const lines = stdout.split("\n");
  return { status: Number(lines.pop()), body: lines.join("\n").trim() };
}

export async function get(url: string): Promise<{ status: number; body: string }> {
  const [file, ...args] = curlGet(url);
  return parseCurlGet((await run(file, args)).stdout);
}

export const nginxFile = (serviceId: string) => `/etc/nginx/conf.d/conductor-${serviceId}.conf`;
export const exists = (path: string) => fs.existsSync(path);
