// The Pulumi CLI as the operator runs it: from the project directory, with the
// stack's backend and passphrase from the environment, as for `pulumi up`.
import { spawn } from "node:child_process";
import { PROJECT_ROOT } from "./stack";

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs pulumi; `show`: its output goes straight to ours (previews, updates). */
export function pulumi(
  args: string[],
  options: { show?: boolean; cwd?: string } = {},
): Promise<PulumiResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, {
      cwd: options.cwd ?? PROJECT_ROOT,
      stdio: ["ignore", options.show ? "inherit" : "pipe", options.show ? "inherit" : "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c));
    child.stderr?.on("data", (c: Buffer) => (stderr += c));
    child.on("error", (e) => reject(new Error(`cannot run pulumi: ${e.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export async function pulumiOk(args: string[], options: { cwd?: string } = {}): Promise<string> {
  const r = await pulumi(args, options);
  if (r.code !== 0)
    throw new Error(`pulumi ${args.slice(0, 2).join(" ")} failed:\n${r.stderr.trim()}`);
  return r.stdout;
}
