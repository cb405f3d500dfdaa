// `conductor serve` with a fake request runner: answers by id as requests
// finish, what each request's own process would have done, the requests
// running counted for the nginx batch, and the end of input waiting for them.
import { PassThrough } from "node:stream";
import { EventEmitter } from "node:events";
import { onCrash, runCaptured } from "./main";
import { runningHere, serve, type Exit, UNREADABLE_LINE, UNREADABLE_REQUEST } from "./serve";

function server(run: (argv: string[], input: string) => Promise<Exit>) {
  const input = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const served = serve(
    input,
    (line) => lines.push(JSON.parse(line)),
    run,
    (line) => errors.push(line),
  );
  const send = (id: number, argv: string[], stdin = "") =>
    input.write(`${JSON.stringify({ id, argv, input: stdin })}\n`);
  return { input, lines, errors, served, send };
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

describe("conductor serve and a line it cannot read", () => {
  const SECRET = "hunter2";
  const ok = async () => ({ code: 0, stdout: "{}\n", stderr: "" });

  it("answers a request it cannot read by its id, exit 2, repeating nothing of it", async () => {
    const s = server(ok);
    s.input.write(
      `${JSON.stringify({ id: 4, argv: ["container", "up"], input: "{}", env: { DB_PASSWORD: SECRET } })}\n`,
    );
    s.send(5, ["container", "up"]);
    s.input.end();
    await expect(s.served).resolves.toBe(0);
    expect(s.lines).toEqual([
      { id: 4, code: 2, stdout: "", stderr: UNREADABLE_REQUEST },
      { id: 5, code: 0, stdout: "{}\n", stderr: "" },
    ]);
    expect(JSON.stringify([s.lines, s.errors])).not.toContain(SECRET);
  });

  it("ends after a line without an id, finishing the requests it has, and exits 1", async () => {
    let finish!: () => void;
    const s = server(
      () =>
        new Promise((resolve) => (finish = () => resolve({ code: 0, stdout: "{}\n", stderr: "" }))),
    );
    s.send(1, ["container", "up"]);
    s.input.write(`{"DB_PASSWORD":"${SECRET}"\n`);
    s.send(2, ["container", "up"]);
    await tick();
    finish();
    // Its input not ended: it stopped reading by itself.
    await expect(s.served).resolves.toBe(1);
    expect(s.lines).toEqual([{ id: 1, code: 0, stdout: "{}\n", stderr: "" }]);
    expect(s.errors).toEqual([UNREADABLE_LINE]);
    expect(JSON.stringify([s.lines, s.errors])).not.toContain(SECRET);
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

describe("conductor serve and an error nothing caught (onCrash)", () => {
  function crashes() {
    const proc = new EventEmitter();
    const errors: string[] = [];
    const exits: number[] = [];
    onCrash(
      proc,
      (line) => errors.push(line),
      (code) => exits.push(code),
    );
    return { proc, errors, exits };
  }

  it("logs a rejection nothing handled without its message and serves on", () => {
    const c = crashes();
    c.proc.emit("unhandledRejection", new TypeError('bad input {"DB_PASSWORD":"hunter2"}'));
    expect(c.exits).toEqual([]);
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]).toMatch(
      /^conductor: serve: a rejection nothing handled, serving on: TypeError\n\s+at /,
    );
    expect(c.errors[0]).not.toContain("hunter2");
  });

  it("exits 1 on a thrown exception, saying the requests it ran are unfinished, without its message", () => {
    const c = crashes();
    c.proc.emit("uncaughtException", new Error("hunter2"));
    expect(c.exits).toEqual([1]);
    expect(c.errors[0]).toMatch(/^conductor: serve: crashed .* requests it was running unfinished/);
    expect(c.errors[0]).not.toContain("hunter2");
  });
});
