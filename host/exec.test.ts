// exec with real programs: the output, the exit code, and the timeout that
// kills a program that hangs (nginx -t on a resolver that never answers).
import { exec } from "./exec";

describe("exec", () => {
  it("gives the output and exit code, without a shell", async () => {
    const result = await exec("sh", ["-c", "echo out; echo err >&2; exit 3", "$(echo not run)"]);
    expect(result).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("kills a program still running at its timeout, and says so on stderr", async () => {
    const started = Date.now();
    const result = await exec("sh", ["-c", "echo started >&2; sleep 30"], { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe("started\nsh did not finish within 0.2 s; killed\n");
  });

  it("says nothing of a timeout a program finished within", async () => {
    const result = await exec("sh", ["-c", "exit 0"], { timeoutMs: 5_000 });
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
