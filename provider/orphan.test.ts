// A provider whose CLI is SIGKILLed exits by itself: a real process tree
// (this test -> a stand-in CLI -> a stand-in provider running exitWhenOrphaned).
import { spawn } from "node:child_process";
import * as path from "node:path";

const PROVIDER = `
require(${JSON.stringify(require.resolve("esbuild-register/dist/node"))}).register();
require(${JSON.stringify(path.join(__dirname, "orphan.ts"))}).exitWhenOrphaned(process, 50);
process.stdout.write(String(process.pid) + "\\n");
setInterval(() => undefined, 1000); // a provider serving: never ends by itself
`;
const CLI = `
const child = require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(PROVIDER)}], { stdio: ["ignore", "pipe", "inherit"] });
child.stdout.pipe(process.stdout);
setInterval(() => undefined, 1000);
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("exitWhenOrphaned", () => {
  it("ends the provider soon after its CLI is killed, and not while the CLI lives", async () => {
    const cli = spawn(process.execPath, ["-e", CLI], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve, reject) => {
      cli.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      cli.once("exit", () => reject(new Error("the stand-in CLI exited")));
      setTimeout(() => reject(new Error("the stand-in provider did not start")), 10_000);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(pid)).toBe(true);
    cli.kill("SIGKILL");
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const survived = alive(pid);
    if (survived) process.kill(pid, "SIGKILL");
    expect(survived).toBe(false);
  });
});
