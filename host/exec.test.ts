// exec with real programs: the output, the exit code, and the timeout that
// kills a program that hangs (nginx -t on a resolver that never answers).
import { exec, withSystemDirs } from "./exec";
import { HOST_PATH } from "../protocol/rules";

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

describe("withSystemDirs", () => {
  it("appends the system directories cron's PATH lacks, nginx's /usr/sbin among them", () => {
    expect(withSystemDirs("/usr/bin:/bin")).toBe(
      "/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin",
    );
  });

  it("keeps the caller's directories first and in their order, without repeating one", () => {
    expect(
      withSystemDirs("/opt/node/bin:/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/bin:/sbin:/bin"),
    ).toBe("/opt/node/bin:/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/bin:/sbin:/bin");
  });

  it("gives the system directories alone without a PATH", () => {
    expect(withSystemDirs(undefined)).toBe(HOST_PATH);
    expect(withSystemDirs("")).toBe(HOST_PATH);
  });
});
