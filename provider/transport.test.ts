// How the provider reaches a host: the ssh command line (the key in a 0600
// file, never on argv), the local host run directly, and what a failure says.
// Not proven here: that OpenSSH accepts these options (the e2e tests use them).
import * as fs from "node:fs";
import * as path from "node:path";
import type { Connection } from "../protocol/connection";
import { shellJoin } from "../protocol/quote";
import { describeFailure, HostCommandError, hostCommand, runOnHost, sshArgs } from "./transport";

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
