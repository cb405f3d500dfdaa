// A provider whose CLI is SIGKILLed exits by itself: a real process tree
// (this test -> a stand-in CLI -> a stand-in provider running exitWhenOrphaned).
import { spawn } from "node:child_process";
import * as net from "node:net";
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

/** A stand-in provider whose parent is this test, asking the engine at `address`. */
const providerAsking = (address: string) => `
require(${JSON.stringify(require.resolve("esbuild-register/dist/node"))}).register();
require(${JSON.stringify(path.join(__dirname, "orphan.ts"))}).exitWhenOrphaned(process, 50, ${JSON.stringify(address)});
process.stdout.write("serving\\n");
setInterval(() => undefined, 1000);
`;

describe("exitWhenOrphaned", () => {
  // A CLI killed while its provider was starting leaves it with init as the
  // parent it remembers: only the engine's going away tells.
  it("ends the provider once the engine takes no more connections, and not while it does", async () => {
    const engine = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
    const { port } = engine.address() as net.AddressInfo;
    const provider = spawn(process.execPath, ["-e", providerAsking(`127.0.0.1:${port}`)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => provider.once("exit", resolve));
    await new Promise((resolve) => provider.stdout.once("data", resolve));
    await new Promise((r) => setTimeout(r, 300));
    expect(provider.exitCode).toBeNull();
    await new Promise((resolve) => engine.close(resolve));
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r("alive"), 5_000)),
    ]);
    if (code === "alive") provider.kill("SIGKILL");
    expect(code).toBe(0);
  });

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
