// The provider's side of `conductor serve` (session.ts) against small Node.js
// servers standing in for the host command: answers matched by id, a server
// that does not know `serve` (an older conductor), one that dies mid-request.
import { spawn } from "node:child_process";
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
