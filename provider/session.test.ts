// The provider's side of `conductor serve` (session.ts) against small Node.js
// servers standing in for the host command: answers matched by id, a server
// that does not know `serve` (an older conductor), one that dies mid-request.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { HostSession } from "./session";

/** A session with a server whose code is `script` (Node.js, reading stdin). */
const sessionOf = (script: string) =>
  new HostSession(spawn(process.execPath, ["-e", script], { stdio: "pipe" }));

/** Answers each request line after `input` ms, stdout naming the argv. */
const ECHO = `
require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
  const r = JSON.parse(l);
  setTimeout(() => process.stdout.write(JSON.stringify({ id: r.id, code: r.argv[0] === "fail" ? 1 : 0,
    stdout: r.argv.join(" ") + "\\n", stderr: r.argv[0] === "fail" ? "conductor: failed\\n" : "" }) + "\\n"), Number(r.input));
});`;

describe("HostSession", () => {
  it("matches answers to requests by id, whatever order they finish in", async () => {
    const session = sessionOf(ECHO);
    const slow = session.request(["container", "up"], "200");
    const fast = session.request(["nginx", "apply"], "0");
    const failed = session.request(["fail"], "0");
    await expect(fast).resolves.toEqual({ code: 0, stdout: "nginx apply\n", stderr: "" });
    await expect(slow).resolves.toEqual({ code: 0, stdout: "container up\n", stderr: "" });
    await expect(failed).resolves.toEqual({
      code: 1,
      stdout: "fail\n",
      stderr: "conductor: failed\n",
    });
    session.end();
  });

  it("says unsupported when the server exits 2 before answering anything: a conductor without serve", async () => {
    const session = sessionOf(
      `process.stderr.write("conductor: unknown command serve\\n"); process.exit(2)`,
    );
    await expect(session.request(["container", "up"], "{}")).resolves.toBe("unsupported");
    expect(session.alive).toBe(false);
  });

  it("fails the requests a dying server leaves unanswered with its exit code and stderr", async () => {
    const session = sessionOf(`
      process.stdin.once("data", () => { process.stderr.write("Connection to 10.0.1.11 closed by remote host.\\n"); process.exit(255); });`);
    await expect(session.request(["container", "up"], "{}")).resolves.toEqual({
      code: 255,
      stdout: "",
      stderr: "Connection to 10.0.1.11 closed by remote host.\n",
    });
    await expect(session.request(["container", "up"], "{}")).resolves.toMatchObject({ code: 255 });
  });
});

describe("HostSession after its server exits", () => {
  // The server's output closes after it exits ('close' after 'exit'), here
  // 1 s later, as when a process it started keeps the pipe open: a request
  // in between would go to a server that is gone (transport.test.ts once
  // failed on that window: "starts a new server once the last has died").
  it("takes no request once its server exited, before its output closes", async () => {
    const child = spawn(
      process.execPath,
      [
        "-e",
        `require("child_process").spawn("sleep", ["1"], { stdio: ["ignore", "inherit", "inherit"] }); process.exit(0);`,
      ],
      { stdio: "pipe" },
    );
    const session = new HostSession(child);
    let closed = false;
    child.on("close", () => (closed = true));
    await new Promise((resolve) => child.on("exit", resolve));
    expect(closed).toBe(false);
    expect(session.alive).toBe(false);
    await new Promise((resolve) => child.on("close", resolve));
  });
});

describe("HostSession's end", () => {
  /** Exits when its input ends, as conductor serve does. */
  const UNTIL_EOF = `${ECHO}; process.stdin.on("end", () => process.exit(0));`;

  it("ends itself once nothing waited for the idle time, telling its owner first", async () => {
    const events: string[] = [];
    const child = spawn(process.execPath, ["-e", UNTIL_EOF], { stdio: "pipe" });
    const session = new HostSession(child, {
      ms: 100,
      onIdle: (s) => events.push(`idle, alive ${s.alive}`),
    });
    child.on("exit", () => events.push("exited"));
    await session.request(["container", "up"], "150");
    expect(events).toEqual([]);
    await new Promise((resolve) => child.on("exit", resolve));
    expect(events).toEqual(["idle, alive true", "exited"]);
    expect(session.alive).toBe(false);
  });

  it("loses its input when the provider is killed, so the server exits without an idle time", async () => {
    // A provider killed by SIGKILL: nothing of it runs, only the kernel closes its pipes.
    const provider = spawn(
      process.execPath,
      [
        "-e",
        `const { spawn } = require("child_process");
         const a = spawn(process.execPath, ["-e", ${JSON.stringify(UNTIL_EOF)}], { stdio: "pipe" });
         const b = spawn(process.execPath, ["-e", ${JSON.stringify(UNTIL_EOF)}], { stdio: "pipe" });
         console.log(a.pid + " " + b.pid); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const pids = await new Promise<number[]>((resolve) =>
      provider.stdout.once("data", (d: Buffer) => resolve(String(d).trim().split(" ").map(Number))),
    );
    provider.kill("SIGKILL");
    // Gone, or a zombie nobody reaped yet (whoever adopted it): it ran to its end.
    const gone = (pid: number) => {
      try {
        return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].startsWith("Z");
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !pids.every(gone); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pids.map(gone)).toEqual([true, true]);
  });
});
