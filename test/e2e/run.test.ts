// One-off tasks and consoles: `conductor run` on the host, and `npx conductor
// run` from the operator's side over SSH. Exit codes, stdin, env (a secret
// included), a TTY session driven through a pseudo-terminal (script(1)),
// signals, helpful errors, and nothing left behind in `docker ps -a`.
import { spawn } from "node:child_process";
import { buildExample } from "./docker";
import { serviceId, webConfig } from "./fixtures";
import { PROJECT_ROOT, run, TestStack } from "./harness";
import { authorizeTestKey, type SshKey } from "./ssh";

const REVISION = "7e57e57";
const APP = "runs";
const CONDUCTOR = "/usr/local/bin/conductor";

describe("conductor run", () => {
  const id = serviceId(APP, "runs");
  const secret = `run-secret-${process.pid}`;
  let stack: TestStack;
  let key: SshKey;

  const onHost = (args: string[], input = "") =>
    run(CONDUCTOR, ["run", "--id", id, ...args], { input });
  const fromOperator = (args: string[], input = "") =>
    run(
      "node",
      [
        "bin/conductor-operator.js",
        "run",
        "--stack",
        "runs",
        "--config-file",
        stack.configFile,
        "--service",
        "web",
        ...args,
      ],
      { cwd: PROJECT_ROOT, env: stack.env, input },
    );
  /** Runs a command line in a pseudo-terminal, typing `keys` into it. */
  const inTerminal = (commandLine: string, keys: string) =>
    run("script", ["-qfec", commandLine, "/dev/null"], {
      cwd: PROJECT_ROOT,
      env: stack.env,
      input: keys,
    });
  const leftovers = async () =>
    (
      await run("docker", [
        "ps",
        "-a",
        "--filter",
        `label=conductor.run=${id}`,
        "--format",
        "{{.Names}}",
      ])
    ).stdout.trim();

  beforeAll(async () => {
    await buildExample(REVISION);
    stack = await TestStack.create("runs");
    key = await authorizeTestKey(APP);
    await stack.writeConfig(
      webConfig({ app: APP, revision: REVISION, kind: "ssh", listen: 18105, replicas: 1 }),
    );
    await stack.setSecret("conductor:sshPrivateKey", key.privateKey);
    await stack.setSecret("conductor:services.web.env.SECRET_TOKEN", secret);
    await stack.upOk();
  });

  afterAll(async () => {
    await stack?.dispose();
    key?.remove();
  });

  afterEach(async () => {
    expect(await leftovers()).toBe("");
  });

  it("passes the command's exit code through", async () => {
    expect((await onHost(["--", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await onHost(["true"])).code).toBe(0);
  });

  it("pipes stdin to the command and its stdout and stderr back", async () => {
    const result = await onHost(["sh", "-c", "tr a-z A-Z; echo to-stderr >&2"], "hello\n");
    expect(result.stdout).toBe("HELLO\n");
    expect(result.stderr).toBe("to-stderr\n");
  });

  it("runs in the deployed revision with the service's env, secret included", async () => {
    const result = await onHost(["sh", "-c", 'printf "%s %s" "$REVISION" "$SECRET_TOKEN"']);
    expect(result.stdout).toBe(`${REVISION} ${secret}`);
  });

  it("keeps the command's own options its own", async () => {
    expect((await onHost(["sh", "-c", "echo $0 $1", "--lock", "-i"])).stdout).toBe("--lock -i\n");
  });

  it("gives a terminal with -i", async () => {
    const result = await inTerminal(
      `${CONDUCTOR} run --id ${id} -i -- sh`,
      "[ -t 0 ] && echo has-a-tty\nexit 5\n",
    );
    expect(result.output).toContain("has-a-tty");
    expect(result.code).toBe(5);
  });

  it("delivers SIGTERM to the task", async () => {
    const task =
      "trap 'echo got-term; exit 143' TERM; echo started; while true; do sleep 0.1; done";
    const child = spawn(CONDUCTOR, ["run", "--id", id, "--", "sh", "-c", task]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    while (!out.includes("started")) await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    child.kill("SIGTERM");
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(out).toContain("got-term");
    expect(code).toBe(143);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("says which services and revisions exist when asked for others", async () => {
    const unknownId = await run(CONDUCTOR, ["run", "--id", "nope_web_x", "--", "true"]);
    expect(unknownId.code).toBe(2);
    expect(unknownId.stderr).toMatch(
      new RegExp(`no service with id "nope_web_x" is deployed on this host; deployed: .*${id}`),
    );
    const unknownRevision = await onHost(["--revision", "0000000", "true"]);
    expect(unknownRevision.code).toBe(2);
    expect(unknownRevision.stderr).toMatch(
      new RegExp(`revision 0000000 of conductor-hello is not on this host; present: .*${REVISION}`),
    );
  });

  it("skips a --lock run while the same command still runs", async () => {
    const first = onHost(["--lock", "sh", "-c", "sleep 3; echo first"]);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await onHost(["--lock", "sh", "-c", "sleep 3; echo first"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("its previous run is still going");
    expect((await first).stdout).toBe("first\n");
  });

  it("runs from the operator's machine over SSH, stdin and exit code included", async () => {
    const result = await fromOperator(
      ["--", "sh", "-c", 'read line; echo "$line $REVISION"; exit 3'],
      "over-ssh\n",
    );
    expect(result.stdout).toBe(`over-ssh ${REVISION}\n`);
    expect(result.code).toBe(3);
  });

  it("opens a console from the operator's machine with -i", async () => {
    const line = `node bin/conductor-operator.js run --stack runs --config-file ${stack.configFile} --service web -i -- sh`;
    const result = await inTerminal(line, 'echo "console in $REVISION"\nexit\n');
    expect(result.output).toContain(`console in ${REVISION}`);
    expect(result.code).toBe(0);
  });
});
