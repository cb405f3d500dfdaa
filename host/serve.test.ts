// `conductor serve` with a fake request runner: answers by id as requests
// finish, what each request's own process would have done, the requests
// running counted for the nginx batch, and the end of input waiting for them.
import { PassThrough } from "node:stream";
import { runCaptured } from "./main";
import { runningHere, serve, type Exit } from "./serve";

function server(run: (argv: string[], input: string) => Promise<Exit>) {
  const input = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  const served = serve(input, (line) => lines.push(JSON.parse(line)), run);
  const send = (id: number, argv: string[], stdin = "") =>
    input.write(`${JSON.stringify({ id, argv, input: stdin })}\n`);
  return { input, lines, served, send };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("conductor serve", () => {
  it("runs requests at once and answers each by its id as it finishes", async () => {
    const release: Record<string, () => void> = {};
    const s = server(
      (argv, stdin) =>
        new Promise((resolve) => {
          release[stdin] = () =>
            resolve({ code: 0, stdout: `${argv.join(" ")} ${stdin}\n`, stderr: "" });
        }),
    );
    s.send(1, ["container", "up"], "a");
    s.send(2, ["container", "up"], "b");
    await tick();
    expect(Object.keys(release).sort()).toEqual(["a", "b"]);
    expect(runningHere("container up")).toBe(2);
    release.b();
    await tick();
    expect(s.lines).toEqual([{ id: 2, code: 0, stdout: "container up b\n", stderr: "" }]);
    expect(runningHere("container up")).toBe(1);
    release.a();
    s.input.end();
    await s.served;
    expect(s.lines.map((l) => l.id)).toEqual([2, 1]);
    expect(runningHere("container up")).toBe(0);
  });

  it("finishes what it started when its input ends", async () => {
    let finish!: () => void;
    const s = server(
      () =>
        new Promise((resolve) => (finish = () => resolve({ code: 0, stdout: "{}\n", stderr: "" }))),
    );
    s.send(7, ["nginx", "apply"]);
    s.input.end();
    let ended = false;
    void s.served.then(() => (ended = true));
    await tick();
    expect(ended).toBe(false);
    finish();
    await s.served;
    expect(s.lines).toEqual([{ id: 7, code: 0, stdout: "{}\n", stderr: "" }]);
  });

  it("answers a runner that throws as a process that failed", async () => {
    const s = server(async () => {
      throw new Error("docker is gone");
    });
    s.send(3, ["image", "pull"]);
    s.input.end();
    await s.served;
    expect(s.lines).toEqual([
      { id: 3, code: 1, stdout: "", stderr: "conductor: docker is gone\n" },
    ]);
  });
});

describe("a request as serve runs it (runCaptured)", () => {
  it("refuses what is not one of the deploy's requests with a usage error (exit 2)", async () => {
    await expect(runCaptured(["version"], "")).resolves.toEqual({
      code: 2,
      stdout: "",
      stderr: "conductor: conductor serve runs the deploy's requests, not version\n",
    });
  });

  it("fails an invalid request as its process would, naming the command", async () => {
    const exit = await runCaptured(["image", "read"], "{}");
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^conductor: invalid request for conductor image read: /);
  });
});
