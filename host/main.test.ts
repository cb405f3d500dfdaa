// `conductor`'s entry: help and usage errors end before anything runs, with
// the exit codes scripts see (0 for help, 2 for a usage error).
import { UsageError as CommandLineError } from "../cli/commands";
import { exitCodeOf, main, VERSION } from "./main";
import { UsageError } from "./run";

describe("main", () => {
  let stderr: jest.SpyInstance;
  let stdout: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  it.each([[[]], [["help"]], [["supervise", "--help"]]])(
    "prints the usage for %j and exits 0",
    async (argv) => {
      await expect(main(argv)).resolves.toBe(0);
      expect(String(stderr.mock.calls[0][0])).toMatch(/^usage: conductor /);
    },
  );

  it("prints its version", async () => {
    await expect(main(["version"])).resolves.toBe(0);
    expect(stdout).toHaveBeenCalledWith(`${VERSION}\n`);
  });

  it.each([
    [["supervise", "--onse"], "unknown option --onse"],
    [["pause"], "missing <id>"],
    [["run", "--id", "x", "--revision", "HEAD", "true"], "--revision: expected"],
    [["container", "up", "extra"], 'unexpected argument "extra"'],
  ])("refuses %j before running anything, for exit code 2", async (argv, message) => {
    const error = await main(argv).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain(message);
    expect(exitCodeOf(error)).toBe(2);
    expect(stdout).not.toHaveBeenCalled();
  });
});

describe("exitCodeOf", () => {
  it("is 2 for usage errors, of the command line or of `run`, else 1", () => {
    expect(exitCodeOf(new CommandLineError("unknown option"))).toBe(2);
    expect(exitCodeOf(new UsageError("no service with id"))).toBe(2);
    expect(exitCodeOf(new Error("docker failed"))).toBe(1);
  });
});
