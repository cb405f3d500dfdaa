// How the provider reaches a host: the ssh command line (the key in a 0600
// file, never on argv), the local host run directly, and what a failure says.
// Not proven here: that OpenSSH accepts these options (the e2e tests use them).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection } from "../protocol/connection";
import { shellJoin } from "../protocol/quote";
import { type ChildProcess, spawn } from "node:child_process";
import { CONDUCTOR_BIN } from "../protocol/rules";
import {
  describeFailure,
  HostCommandError,
  hostCommand,
  runOnHost,
  type RunOnHost,
  sessionTransport,
  sshArgs,
  type StartServe,
} from "./transport";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----";
const APP_1: Connection = {
  host: "app-1",
  address: "10.0.1.11",
  local: false,
  user: "deploy",
  port: 2222,
};
const LOCAL: Connection = { host: "local", address: "local", local: true, user: "root", port: 22 };
const ARGV = [
  "/usr/local/bin/conductor",
  "run",
  "--id",
  "shop_web_production",
  "--",
  "sh",
  "-c",
  "echo 'a b'",
];

/** The value of `-o <name>=<value>` in ssh's arguments. */
function option(args: string[], name: string): string | undefined {
  const o = args.find((a, i) => args[i - 1] === "-o" && a.startsWith(`${name}=`));
  return o?.slice(name.length + 1);
}

describe("sshArgs", () => {
  it("runs the command line, each word quoted, as the user on the port", () => {
    const args = sshArgs(APP_1, ARGV);
    expect(args.slice(-5)).toStrictEqual(["-l", "deploy", "--", "10.0.1.11", shellJoin(ARGV)]);
    expect(args[args.indexOf("-p") + 1]).toBe("2222");
  });

  it("never asks for a password and gives up on a dead host", () => {
    const args = sshArgs(APP_1, ARGV);
    expect(option(args, "BatchMode")).toBe("yes");
    expect(option(args, "ConnectTimeout")).toBe("10");
    expect(option(args, "ServerAliveInterval")).toBe("15");
    expect(option(args, "StrictHostKeyChecking")).toBe("accept-new");
  });

  it("shares one connection per host through a socket in a private directory", () => {
    const args = sshArgs(APP_1, ARGV);
    expect(option(args, "ControlMaster")).toBe("auto");
    expect(option(args, "ControlPersist")).toBe("15");
    const controlPath = option(args, "ControlPath")!;
    expect(path.basename(controlPath)).toBe("ssh-%C");
    expect(fs.statSync(path.dirname(controlPath)).mode & 0o777).toBe(0o700);
  });

  it("uses no key file and the agent's keys when the connection has no key", () => {
    const args = sshArgs(APP_1, ARGV);
    expect(args).not.toContain("-i");
    expect(option(args, "IdentitiesOnly")).toBeUndefined();
  });

  it("passes the key in a 0600 file, never on the command line", () => {
    const args = sshArgs({ ...APP_1, privateKey: KEY }, ARGV);
    const file = args[args.indexOf("-i") + 1];
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toBe(`${KEY}\n`);
    expect(path.dirname(file)).toBe(path.dirname(option(args, "ControlPath")!));
    expect(option(args, "IdentitiesOnly")).toBe("yes");
    for (const arg of args) expect(arg).not.toContain("not-a-real-key");
  });

  it("writes each key once, to a file of its own", () => {
    const file = (key: string) => {
      const args = sshArgs({ ...APP_1, privateKey: key }, ARGV);
      return args[args.indexOf("-i") + 1];
    };
    expect(file(KEY)).toBe(file(KEY));
    expect(file(`${KEY}\n`)).not.toBe(file(KEY));
  });
});

describe("hostCommand", () => {
  it("runs argv itself on the local host", () => {
    expect(hostCommand(LOCAL, ARGV)).toStrictEqual([ARGV[0], ARGV.slice(1)]);
    expect(hostCommand(LOCAL, ARGV, { tty: true })).toStrictEqual([ARGV[0], ARGV.slice(1)]);
  });

  it("runs ssh for the others, with a terminal (-t) when asked", () => {
    expect(hostCommand(APP_1, ARGV)).toStrictEqual(["ssh", sshArgs(APP_1, ARGV)]);
    expect(hostCommand(APP_1, ARGV, { tty: true })).toStrictEqual([
      "ssh",
      ["-t", ...sshArgs(APP_1, ARGV)],
    ]);
  });
});

describe("describeFailure", () => {
  const LOG = "--- log of host app-1 before the error ---";

  it("says ssh itself failed when it exits 255", () => {
    expect(describeFailure(APP_1, 255, "Connection refused")).toBe(
      "cannot connect over SSH to deploy@10.0.1.11:2222: Connection refused",
    );
  });

  it("leads with ssh's last line when it exits 255, the lines before it after", () => {
    const stderr =
      "Warning: Permanently added '[10.0.1.11]:2222' (ED25519) to the list of known hosts.\r\n" +
      "deploy@10.0.1.11: Permission denied (publickey).\r\n";
    expect(describeFailure(APP_1, 255, stderr)).toBe(
      [
        "cannot connect over SSH to deploy@10.0.1.11:2222: deploy@10.0.1.11: Permission denied (publickey).",
        "",
        LOG,
        "Warning: Permanently added '[10.0.1.11]:2222' (ED25519) to the list of known hosts.",
      ].join("\n"),
    );
  });

  it("says the connection was lost, not the host command's last progress line", () => {
    const stderr =
      "conductor: pulling shop:5c1d8e2\nConnection to 10.0.1.11 closed by remote host.";
    expect(describeFailure(APP_1, 255, stderr)).toBe(
      [
        "cannot connect over SSH to deploy@10.0.1.11:2222: Connection to 10.0.1.11 closed by remote host.",
        "",
        LOG,
        "pulling shop:5c1d8e2",
      ].join("\n"),
    );
  });

  it("takes 255 from a local command as the command's own", () => {
    expect(describeFailure(LOCAL, 255, "conductor: no such service")).toBe("no such service");
  });

  it("leads with the host command's error, its last conductor: line, then its progress", () => {
    const stderr = [
      "conductor: starting web-3",
      "conductor: waiting for health of web-3",
      "conductor: web-3 did not become healthy: GET /health on port 24611: HTTP 503",
    ].join("\n");
    expect(describeFailure(APP_1, 1, `${stderr}\n`)).toBe(
      [
        "web-3 did not become healthy: GET /health on port 24611: HTTP 503",
        "",
        LOG,
        "starting web-3",
        "waiting for health of web-3",
      ].join("\n"),
    );
  });

  it("keeps every line of an error of several lines in the lead", () => {
    const stderr = [
      "conductor: checking /etc/nginx/conf.d/shop.conf",
      "conductor: nginx -t rejected /etc/nginx/conf.d/shop.conf; the previous file is back in place:",
      'nginx: [emerg] unknown directive "lisen" in /etc/nginx/conf.d/shop.conf:3',
      "nginx: configuration file /etc/nginx/nginx.conf test failed",
    ].join("\n");
    expect(describeFailure(APP_1, 1, stderr)).toBe(
      [
        "nginx -t rejected /etc/nginx/conf.d/shop.conf; the previous file is back in place:",
        'nginx: [emerg] unknown directive "lisen" in /etc/nginx/conf.d/shop.conf:3',
        "nginx: configuration file /etc/nginx/nginx.conf test failed",
        "",
        LOG,
        "checking /etc/nginx/conf.d/shop.conf",
      ].join("\n"),
    );
  });

  it("gives all of stderr when no line is the host command's", () => {
    const stderr = "bash: line 1: /usr/local/bin/conductor: No such file or directory\nsecond line";
    expect(describeFailure(APP_1, 127, stderr)).toBe(stderr);
  });

  it("gives the exit code when stderr is empty", () => {
    expect(describeFailure(APP_1, 3, "")).toBe("exit code 3");
    expect(describeFailure(LOCAL, null, "")).toBe("exit code null");
  });
});

describe("describeFailure when ssh exits 255 with no message of its own", () => {
  const ENDED =
    "ssh to deploy@10.0.1.11:2222 ended with exit code 255 and no message of its own: the connection was lost or the host command killed";

  it("says so when stderr is empty", () => {
    expect(describeFailure(APP_1, 255, "\r\n")).toBe(ENDED);
  });

  it("does not take the host command's last progress line for ssh's message", () => {
    expect(
      describeFailure(APP_1, 255, "conductor: starting web-3\nconductor: waiting for health"),
    ).toBe(
      `${ENDED}\n\n--- log of host app-1 before the error ---\nstarting web-3\nwaiting for health`,
    );
  });
});

// OpenSSH's own wording (openssh-portable mux.c); after each, ssh runs the command without the master.
const MUX_NOISE = [
  "ControlSocket /tmp/conductor-Xy12Ab/ssh-6f1c2e9a0b already exists, disabling multiplexing",
  "ControlSocket /tmp/conductor-Xy12Ab/ssh-6f1c2e9a0b.Qk3VmZ8pL1sT0aBc already exists, disabling multiplexing",
  "Control socket connect(/tmp/conductor-Xy12Ab/ssh-6f1c2e9a0b): Connection reset by peer",
  "muxclient: master hello exchange failed",
  "mux_client_hello_exchange: expected HELLO (1) got 2",
  "Unsupported multiplexing protocol version 3 (expected 4)",
  "mux_client_request_session: master alive request failed",
  "mux_client_request_session: read from master failed: Broken pipe",
  "mux_client_request_session: session request failed: channel open failed",
  "mux_client_request_session: unexpected response from master 0x80000002",
  "Master refused session request: Permission denied",
];

describe.each(MUX_NOISE)("describeFailure with OpenSSH's %j", (noise) => {
  it("leaves it out of a failure of the host command", () => {
    const stderr = `${noise}\r\nconductor: pulling shop:5c1d8e2\n${noise}\r\nconductor: boom\n${noise}\r\n`;
    expect(describeFailure(APP_1, 1, stderr)).toBe(
      "boom\n\n--- log of host app-1 before the error ---\npulling shop:5c1d8e2",
    );
  });

  it("leaves it out of ssh's own failure", () => {
    expect(
      describeFailure(
        APP_1,
        255,
        `${noise}\r\nssh: connect to host 10.0.1.11 port 2222: Connection refused\r\n`,
      ),
    ).toBe(
      "cannot connect over SSH to deploy@10.0.1.11:2222: ssh: connect to host 10.0.1.11 port 2222: Connection refused",
    );
  });

  it("keeps it from a local command, which runs no ssh of ours", () => {
    expect(describeFailure(LOCAL, 1, `conductor: boom\n${noise}`)).toBe(`boom\n${noise}`);
  });
});

describe("describeFailure keeps OpenSSH's mux lines that end it", () => {
  it.each([
    "mux_client_request_session: write packet: Broken pipe",
    "mux_client_request_session: master returned error: no such session",
    "Control socket connect(/tmp/conductor-Xy12Ab/ssh-6f1c2e9a0b): No such file or directory\r\nmux_client_request_session: send fds failed",
  ])("%j", (stderr) => {
    expect(describeFailure(APP_1, 255, stderr)).toBe(
      `cannot connect over SSH to deploy@10.0.1.11:2222: ${stderr.split("\r\n").pop()}`,
    );
  });
});

describe("runOnHost on the local host", () => {
  it("passes stdin and resolves to stdout", async () => {
    await expect(runOnHost(LOCAL, ["sh", "-c", "tr a-z A-Z"], "hello\n")).resolves.toBe("HELLO\n");
  });

  it("rejects with the host and the command's error, then its log, when it fails", async () => {
    const script = "echo 'conductor: pulling' >&2; echo 'conductor: boom' >&2; exit 4";
    await expect(runOnHost(LOCAL, ["sh", "-c", script], "")).rejects.toThrow(
      new HostCommandError(
        "host local: boom\n\n--- log of host local before the error ---\npulling",
      ),
    );
  });

  it("rejects naming the program it cannot run", async () => {
    await expect(runOnHost(LOCAL, ["/nonexistent/conductor"], "")).rejects.toThrow(
      "host local: cannot run /nonexistent/conductor: spawn /nonexistent/conductor ENOENT",
    );
  });

  it("does not mind a command that reads no stdin", async () => {
    await expect(runOnHost(LOCAL, ["true"], "x".repeat(1 << 20))).resolves.toBe("");
  });
});

/**
 * A stand-in for OpenSSH's ssh, on PATH for the tests below. Per port, as with
 * ControlMaster=auto: a call when there is no master connects (100 ms) and is the
 * master from then on, later calls share it; `-O check` says whether there is
 * one. down-<port> makes the port refuse; after-<port> (holding another port)
 * makes its connect wait, at most 2 s, until that port has a master. Each call
 * goes to `calls` ("<port> <what>") and its arguments to `argv`.
 */
const FAKE_SSH = `#!/bin/sh
dir=$(dirname "$0")
prev=; port=; op=
for a in "$@"; do
  [ "$prev" = -p ] && port=$a
  [ "$prev" = -O ] && op=$a
  prev=$a
done
printf '%s\\n' "$*" >> "$dir/argv"
log() { echo "$port $1" >> "$dir/calls"; }
if [ "$op" = check ]; then
  log check
  [ -e "$dir/master-$port" ] && exit 0
  echo "Control socket connect($dir/ssh-x): No such file or directory" >&2
  exit 255
fi
if [ -e "$dir/down-$port" ]; then
  log refused
  sleep 0.1
  echo "ssh: connect to host 10.0.1.11 port $port: Connection refused" >&2
  exit 255
fi
if [ -e "$dir/master-$port" ]; then log shared; exit 0; fi
log connecting
sleep 0.1
if [ -e "$dir/after-$port" ]; then
  other=$(cat "$dir/after-$port"); i=0
  until [ -e "$dir/master-$other" ]; do
    i=$((i + 1)); [ $i -gt 40 ] && { echo "no master for $other in 2 s" >&2; exit 255; }
    sleep 0.05
  done
fi
: > "$dir/master-$port"
log connected
`;

// Not proven here: that OpenSSH acts like the fake. By hand against an sshd of
// OpenSSH 9.2, six commands started together made one connection (six before).
describe("runOnHost over ssh, with a fake ssh", () => {
  const savedPath = process.env.PATH;
  let dir = "";
  const at = (port: number): Connection => ({ ...APP_1, host: `app-${port}`, port });
  const calls = (port: number) =>
    fs
      .readFileSync(path.join(dir, "calls"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith(`${port} `))
      .map((l) => l.slice(`${port} `.length));

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-ssh-"));
    fs.writeFileSync(path.join(dir, "ssh"), FAKE_SSH, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "calls"), "");
    fs.writeFileSync(path.join(dir, "argv"), "");
    process.env.PATH = `${dir}:${savedPath}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("starts commands started together once one connection is up, all sharing it", async () => {
    const conn = at(4001);
    await Promise.all([1, 2, 3, 4, 5].map(() => runOnHost(conn, ["true"], "")));
    expect(calls(4001)).toStrictEqual([
      "check",
      "connecting",
      "connected",
      ...Array(5).fill("shared"),
    ]);
  });

  it("checks for the master before each later command, and connects again when it is gone", async () => {
    const conn = at(4002);
    await runOnHost(conn, ["true"], "");
    await runOnHost(conn, ["true"], "");
    fs.rmSync(path.join(dir, "master-4002")); // ControlPersist ran out
    await runOnHost(conn, ["true"], "");
    expect(calls(4002)).toStrictEqual(
      ["check", "connecting", "connected", "shared", "check", "shared"].concat([
        "check",
        "connecting",
        "connected",
        "shared",
      ]),
    );
  });

  it("connects to each host without waiting for the others", async () => {
    fs.writeFileSync(path.join(dir, "after-4003"), "4004");
    await Promise.all([runOnHost(at(4003), ["true"], ""), runOnHost(at(4004), ["true"], "")]);
    expect([calls(4003), calls(4004)]).toStrictEqual([
      ["check", "connecting", "connected", "shared"],
      ["check", "connecting", "connected", "shared"],
    ]);
  });

  it("fails every command waiting on a connection that fails, with ssh's message, and tries again on the next", async () => {
    const conn = at(4005);
    fs.writeFileSync(path.join(dir, "down-4005"), "");
    const refused = new HostCommandError(
      "host app-4005: cannot connect over SSH to deploy@10.0.1.11:4005: ssh: connect to host 10.0.1.11 port 4005: Connection refused",
    );
    const results = await Promise.allSettled([1, 2, 3].map(() => runOnHost(conn, ["true"], "")));
    expect(results).toStrictEqual(Array(3).fill({ status: "rejected", reason: refused }));
    await expect(runOnHost(conn, ["true"], "")).rejects.toThrow(refused);
    expect(calls(4005)).toStrictEqual(["check", "refused", "check", "refused"]);
  });

  it("puts neither the key nor the request on any command line, and never asks for a password", async () => {
    await runOnHost({ ...at(4006), privateKey: KEY }, ["true"], '{"password":"s3cr3t"}');
    const argv = fs
      .readFileSync(path.join(dir, "argv"), "utf8")
      .split("\n")
      .filter((l) => l.includes(" -p 4006 "));
    expect(argv).toHaveLength(3); // the check, the connect, the command
    for (const line of argv) {
      expect(line).toContain("-o BatchMode=yes -o ConnectTimeout=10 ");
      expect(line).not.toMatch(/not-a-real-key|s3cr3t/);
    }
  });

  it("runs no ssh for the local host", async () => {
    const before = fs.readFileSync(path.join(dir, "argv"), "utf8");
    await runOnHost(LOCAL, ["true"], "");
    expect(fs.readFileSync(path.join(dir, "argv"), "utf8")).toBe(before);
  });
});

describe("runThroughSessions (sessionTransport)", () => {
  /** A stand-in `conductor serve`: answers each request with its argv, or runs `script`. */
  const ECHO_SERVE = `require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
    const r = JSON.parse(l);
    process.stdout.write(JSON.stringify({ id: r.id, code: 0, stdout: r.argv.join(" ") + " " + process.pid + "\\n", stderr: "" }) + "\\n");
  });`;
  const UP = [CONDUCTOR_BIN, "container", "up"];

  function transport(script = ECHO_SERVE, idleMs?: number) {
    const started: ChildProcess[] = [];
    const ranAlone: string[][] = [];
    const start: StartServe = async () => () => {
      const child = spawn(process.execPath, ["-e", script], { stdio: "pipe" });
      started.push(child);
      return child;
    };
    const runOne: RunOnHost = async (_conn, argv) => {
      ranAlone.push(argv);
      return `alone ${argv.join(" ")}\n`;
    };
    const run = sessionTransport(start, runOne, idleMs);
    const exited = (child: ChildProcess) =>
      new Promise((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", resolve),
      );
    return { run, started, ranAlone, exited };
  }

  // Node emits a failed spawn's 'error' at once; with no listener it is
  // thrown, and the request waited for good (a refresh with conductor removed).
  it("fails each request with Node's ENOENT when the server cannot start (no conductor on the host)", async () => {
    const missing = "/nonexistent/conductor";
    const run = sessionTransport(
      async () => () => spawn(missing, ["serve"], { stdio: "pipe" }),
      async () => "unused",
    );
    const outcome = await Promise.race([
      run(LOCAL, UP, "{}").then(
        () => "answered",
        (err: Error) => err.message,
      ),
      new Promise((r) => setTimeout(() => r("still waiting after 5 s"), 5_000)),
    ]);
    expect(outcome).toMatch(`cannot run ${missing}: spawn ${missing} ENOENT`);
  });

  it("starts one server for requests that come together and answers each", async () => {
    const t = transport();
    const answers = await Promise.all([1, 2, 3].map(() => t.run(LOCAL, UP, "{}")));
    expect(t.started).toHaveLength(1);
    const pid = t.started[0].pid;
    expect(answers).toEqual([1, 2, 3].map(() => `container up ${pid}\n`));
    await t.run(LOCAL, ["/bin/true"], "");
    await t.exited(t.started[0]);
  });

  it("starts a new server once the last has died", async () => {
    const t = transport(
      `${ECHO_SERVE}; process.stdin.once("data", () => setTimeout(() => process.exit(0), 50));`,
    );
    await t.run(LOCAL, UP, "{}");
    await t.exited(t.started[0]);
    const answer = await t.run(LOCAL, UP, "{}");
    expect(answer).toBe(`container up ${t.started[1].pid}\n`);
    expect(t.started).toHaveLength(2);
    await t.run(LOCAL, ["/bin/true"], "");
  });

  it("ends the server before and after an Agent's script, so the next request runs a new one", async () => {
    const t = transport();
    await t.run(LOCAL, UP, "{}");
    await expect(t.run(LOCAL, ["/bin/sh", "-c", "install"], "")).resolves.toBe(
      "alone /bin/sh -c install\n",
    );
    await t.exited(t.started[0]);
    const answer = await t.run(LOCAL, UP, "{}");
    expect(answer).toBe(`container up ${t.started[1].pid}\n`);
    await t.run(LOCAL, ["/bin/true"], "");
    await t.exited(t.started[1]);
  });

  it("runs a process per request on a host whose conductor has no serve, starting serve no more until an Agent's script", async () => {
    const t = transport(
      `process.stderr.write("conductor: unknown command serve\\n"); process.exit(2)`,
    );
    await expect(t.run(LOCAL, UP, "{}")).resolves.toBe(`alone ${UP.join(" ")}\n`);
    await expect(t.run(LOCAL, UP, "{}")).resolves.toBe(`alone ${UP.join(" ")}\n`);
    expect(t.started).toHaveLength(1);
    await t.run(LOCAL, ["/bin/true"], "");
    await t.run(LOCAL, UP, "{}");
    expect(t.started).toHaveLength(2);
    expect(t.ranAlone).toHaveLength(4);
  });

  it("ends an idle server and starts a new one for the next request", async () => {
    const t = transport(ECHO_SERVE, 100);
    await t.run(LOCAL, UP, "{}");
    await t.exited(t.started[0]);
    const answer = await t.run(LOCAL, UP, "{}");
    expect(answer).toBe(`container up ${t.started[1].pid}\n`);
    await t.run(LOCAL, ["/bin/true"], "");
  });
});
