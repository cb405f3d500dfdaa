// Each handler's read (pulumi refresh) against a fake host: what it asks, the
// state it returns for what the host answers, and, through the handler's own
// diff, what the engine then sees: the engine diffs the refreshed state
// against the stored inputs, both for what `refresh` shows and for the next
// `up` (pulumi/pulumi pkg/resource/deploy/step.go, RefreshStep.Apply). Not
// proven here: what the host answers (host/read.test.ts), nor the engine
// itself (test/e2e/refresh.test.ts).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection } from "../protocol/connection";
import { type Call, scriptedHost } from "./fakes.testutil";
import { FleetProvider } from "./provider";
import { agentHandler, INSTALLED_SCRIPT } from "./resources/agent";
import { containerHandler } from "./resources/container";
import { cronFileHandler } from "./resources/cron-file";
import { imageHandler } from "./resources/image";
import { nginxSiteHandler } from "./resources/nginx-site";
import { GONE } from "./resources/observed";
import { predeployHandler } from "./resources/predeploy";
import { releaseHandler } from "./resources/release";
import type { ResourceHandler } from "./resources/types";
import { containsSecret, secret } from "./secrets";
import { HostCommandError, type RunOnHost } from "./transport";

const CONDUCTOR = "/usr/local/bin/conductor";
const BOX: Connection = { host: "box", address: "10.0.1.11", local: false, user: "root", port: 22 };
const SERVICE_ID = "shop_web_production";
const SHA = "279d9035886d4c0427549863c4c2101e4a63e041";
const OTHER_SHA = "0123456789abcdef0123456789abcdef01234567";
const IMAGE = "registry.example.com/shop/web";
const NAME = "shop_web_production-0-0123456789";
const ENV = { RAILS_ENV: "production", DATABASE_URL: "postgres://app:hunter2@db/app" };
const HEALTH = { path: "/health", timeoutMs: 2000, intervalMs: 1000, deadlineMs: 60000 };

const neverRuns: RunOnHost = async (_conn, argv) => {
  throw new Error(`nothing should run, but ${argv.join(" ")} did`);
};

/** The one call the read made: `conductor <command>` with its request. */
function asked(calls: Call[]): { argv: string[]; request: unknown } {
  expect(calls).toHaveLength(1);
  return { argv: calls[0].argv, request: JSON.parse(calls[0].input) };
}

/**
 * What the engine does with a read: the diff of the refreshed state against
 * the stored inputs (`refresh` shows it, and the next `up` plans it).
 */
function diffAfterRead(handler: ResourceHandler, props: unknown, inputs: Record<string, unknown>) {
  return handler.diff(props as Record<string, unknown>, inputs);
}
const NO_CHANGE = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };

/** A host that cannot be reached, as transport.ts reports it. */
const unreachable: RunOnHost = async () => {
  throw new HostCommandError(
    "host box: cannot connect over SSH to root@10.0.1.11:22: ssh: connect to host 10.0.1.11 port 22: Connection refused",
  );
};

describe("a container's read", () => {
  const inputs = {
    connection: secret(BOX),
    serviceId: SERVICE_ID,
    slot: 0,
    image: IMAGE,
    revision: SHA,
    env: secret(ENV),
    http: { port: 3000, healthCheck: HEALTH },
    stopTimeoutMs: 30000,
  };
  const state = { ...inputs, name: NAME, hostPort: 20001 };
  const answer = (container: object | null) => JSON.stringify({ container });

  it("asks the host for the container by name, and a running one reads as stored", async () => {
    const host = scriptedHost(answer({ state: "running", hostPort: 20001 }));
    const result = await containerHandler.read(NAME, state, host.run);
    expect(asked(host.calls)).toStrictEqual({
      argv: [CONDUCTOR, "container", "read"],
      request: { serviceId: SERVICE_ID, name: NAME },
    });
    expect(result).toStrictEqual({ id: NAME, props: state });
    expect(diffAfterRead(containerHandler, result.props, inputs)).toStrictEqual(NO_CHANGE);
  });

  it("reads as gone when Docker has no such container", async () => {
    const result = await containerHandler.read(NAME, state, scriptedHost(answer(null)).run);
    expect(result).toStrictEqual(GONE);
    expect(result.id).toBe("");
  });

  it("reads a stopped container as drift, which diff makes an update, not a replacement", async () => {
    const host = scriptedHost(answer({ state: "exited", hostPort: 20001 }));
    const result = await containerHandler.read(NAME, state, host.run);
    expect(result).toStrictEqual({
      id: NAME,
      props: { ...state, drift: "Docker has the container exited, not running" },
    });
    expect(diffAfterRead(containerHandler, result.props, inputs)).toStrictEqual(UPDATE);
  });

  it("says anew what it finds: drift an earlier read saw is gone once the container runs", async () => {
    const drifted = { ...state, drift: "Docker has the container exited, not running" };
    const host = scriptedHost(answer({ state: "running", hostPort: 20001 }));
    await expect(containerHandler.read(NAME, drifted, host.run)).resolves.toStrictEqual({
      id: NAME,
      props: state,
    });
  });

  it("takes the host port from the container", async () => {
    const host = scriptedHost(answer({ state: "running", hostPort: 20444 }));
    const result = await containerHandler.read(NAME, state, host.run);
    expect(result.props).toStrictEqual({ ...state, hostPort: 20444 });
  });

  it("keeps the stored null port of a container that serves no http", async () => {
    const worker = { ...state, http: undefined, hostPort: null };
    const host = scriptedHost(answer({ state: "running" }));
    await expect(containerHandler.read(NAME, worker, host.run)).resolves.toStrictEqual({
      id: NAME,
      props: worker,
    });
  });

  it("is started again by the update that drift plans, under the same name", async () => {
    const drifted = { ...state, drift: "Docker has the container exited, not running" };
    const host = scriptedHost(JSON.stringify({ name: NAME, hostPort: 20001 }));
    const result = await containerHandler.update(drifted, inputs, host.run);
    expect(host.calls.map((c) => c.argv)).toStrictEqual([[CONDUCTOR, "container", "up"]]);
    expect(result).toStrictEqual({ outs: state });
  });
});

describe("an nginx site's read", () => {
  const inputs = { connection: secret(BOX), serviceId: SERVICE_ID, config: "server {}\n" };

  it("reads the file as stored when it is what the deploy wrote", async () => {
    const host = scriptedHost(JSON.stringify({ config: "server {}\n" }));
    const result = await nginxSiteHandler.read(SERVICE_ID, inputs, host.run);
    expect(asked(host.calls)).toStrictEqual({
      argv: [CONDUCTOR, "nginx", "read"],
      request: { serviceId: SERVICE_ID },
    });
    expect(result).toStrictEqual({ id: SERVICE_ID, props: inputs });
    expect(diffAfterRead(nginxSiteHandler, result.props, inputs)).toStrictEqual(NO_CHANGE);
  });

  it("reads a file edited by hand as its config, which diff makes an update", async () => {
    const edited = "server { listen 81; }\n";
    const host = scriptedHost(JSON.stringify({ config: edited }));
    const result = await nginxSiteHandler.read(SERVICE_ID, inputs, host.run);
    expect(result).toStrictEqual({ id: SERVICE_ID, props: { ...inputs, config: edited } });
    expect(diffAfterRead(nginxSiteHandler, result.props, inputs)).toStrictEqual(UPDATE);
  });

  it("reads as gone when there is no file", async () => {
    const host = scriptedHost(JSON.stringify({ config: null }));
    await expect(nginxSiteHandler.read(SERVICE_ID, inputs, host.run)).resolves.toStrictEqual(GONE);
  });

  it("keeps a secret config secret", async () => {
    const site = { ...inputs, config: secret("server {}\n") };
    const host = scriptedHost(JSON.stringify({ config: "edited\n" }));
    const { props } = await nginxSiteHandler.read(SERVICE_ID, site, host.run);
    expect((props as Record<string, unknown>).config).toStrictEqual(secret("edited\n"));
  });
});

describe("a cron file's read", () => {
  const written = "a".repeat(64);
  const inputs = {
    connection: BOX,
    serviceId: SERVICE_ID,
    image: IMAGE,
    revision: SHA,
    env: secret(ENV),
    generate: ["bin/generate-cron"],
    allowOverlap: false,
  };
  const state = { ...inputs, jobs: 2, fileSha256: written };
  const answer = (sha256: string | null) => JSON.stringify({ sha256 });

  it("reads as stored when the file's hash is the one the deploy wrote", async () => {
    const host = scriptedHost(answer(written));
    const result = await cronFileHandler.read(SERVICE_ID, state, host.run);
    expect(asked(host.calls)).toStrictEqual({
      argv: [CONDUCTOR, "cron", "read"],
      request: { serviceId: SERVICE_ID },
    });
    expect(result).toStrictEqual({ id: SERVICE_ID, props: state });
    expect(diffAfterRead(cronFileHandler, result.props, inputs)).toStrictEqual(NO_CHANGE);
  });

  it("reads an edited file as drift, naming both hashes, which diff makes an update", async () => {
    const result = await cronFileHandler.read(
      SERVICE_ID,
      state,
      scriptedHost(answer("b".repeat(64))).run,
    );
    expect(result).toStrictEqual({
      id: SERVICE_ID,
      props: {
        ...state,
        drift:
          "the cron file is not the one conductor wrote (SHA-256 bbbbbbbbbbbb…, written aaaaaaaaaaaa…)",
      },
    });
    expect(diffAfterRead(cronFileHandler, result.props, inputs)).toStrictEqual(UPDATE);
  });

  it("reads as gone when the file was deleted", async () => {
    const host = scriptedHost(answer(null));
    await expect(cronFileHandler.read(SERVICE_ID, state, host.run)).resolves.toStrictEqual(GONE);
  });

  it("can tell only a missing file in a state from before the hash was kept", async () => {
    const older = { ...inputs, jobs: 2 };
    const host = scriptedHost(answer("b".repeat(64)));
    await expect(cronFileHandler.read(SERVICE_ID, older, host.run)).resolves.toStrictEqual({
      id: SERVICE_ID,
      props: older,
    });
  });
});

describe("a release's read", () => {
  const inputs = {
    connection: BOX,
    serviceId: SERVICE_ID,
    image: IMAGE,
    revision: SHA,
    command: ["bin/web"],
    env: secret(ENV),
    containers: [NAME],
    supervise: true,
  };
  const record = {
    serviceId: SERVICE_ID,
    image: IMAGE,
    revision: SHA,
    command: ["bin/web"],
    env: ENV,
    containers: [NAME],
    supervise: true,
  };
  const answer = (release: object | null, problem?: string) =>
    JSON.stringify({ release, ...(problem && { problem }) });

  it("reads as stored when the record is what the deploy wrote", async () => {
    const host = scriptedHost(answer(record));
    const result = await releaseHandler.read(SERVICE_ID, inputs, host.run);
    expect(asked(host.calls)).toStrictEqual({
      argv: [CONDUCTOR, "release", "read"],
      request: { serviceId: SERVICE_ID },
    });
    expect(result).toStrictEqual({ id: SERVICE_ID, props: inputs });
    expect(diffAfterRead(releaseHandler, result.props, inputs)).toStrictEqual(NO_CHANGE);
  });

  it("sees no change where the engine sent no command, env or supervise", async () => {
    const bare = { ...inputs, command: undefined, env: undefined, supervise: undefined };
    const host = scriptedHost(answer({ ...record, command: undefined, env: {} }));
    const result = await releaseHandler.read(SERVICE_ID, bare, host.run);
    expect(result).toStrictEqual({ id: SERVICE_ID, props: bare });
    expect(diffAfterRead(releaseHandler, result.props, bare)).toStrictEqual(NO_CHANGE);
  });

  it("reads each field that differs as the host has it; the env, secret, stays secret", async () => {
    const edited = { ...record, revision: OTHER_SHA, env: { ...ENV, DEBUG: "1" } };
    const result = await releaseHandler.read(SERVICE_ID, inputs, scriptedHost(answer(edited)).run);
    const props = result.props as Record<string, unknown>;
    expect(props).toStrictEqual({
      ...inputs,
      revision: OTHER_SHA,
      env: secret({ ...ENV, DEBUG: "1" }),
    });
    expect(containsSecret(props.env)).toBe(true);
    expect(diffAfterRead(releaseHandler, props, inputs)).toStrictEqual(UPDATE);
  });

  it("keeps secret an env that held one secret value among plain ones", async () => {
    const mixed = { ...inputs, env: { RAILS_ENV: "production", DATABASE_URL: secret("x") } };
    const host = scriptedHost(
      answer({ ...record, env: { RAILS_ENV: "staging", DATABASE_URL: "x" } }),
    );
    const { props } = await releaseHandler.read(SERVICE_ID, mixed, host.run);
    expect((props as Record<string, unknown>).env).toStrictEqual(
      secret({ RAILS_ENV: "staging", DATABASE_URL: "x" }),
    );
  });

  it("reads a field the host's record lost as null", async () => {
    const withVolumes = {
      ...inputs,
      volumes: [{ source: "data", target: "/data", readOnly: false }],
    };
    const result = await releaseHandler.read(
      SERVICE_ID,
      withVolumes,
      scriptedHost(answer(record)).run,
    );
    expect(result.props).toStrictEqual({ ...withVolumes, volumes: null });
    expect(diffAfterRead(releaseHandler, result.props, withVolumes)).toStrictEqual(UPDATE);
    // Read again before any up: the null is "not there", as on the host.
    const again = await releaseHandler.read(
      SERVICE_ID,
      result.props as Record<string, unknown>,
      scriptedHost(answer(record)).run,
    );
    expect(again).toStrictEqual(result);
  });

  it("reads a record that is not one conductor writes as drift, with the host's words", async () => {
    const problem = "/var/lib/conductor/releases/x.json is not JSON: it ends before the JSON does";
    const result = await releaseHandler.read(
      SERVICE_ID,
      inputs,
      scriptedHost(answer(null, problem)).run,
    );
    expect(result).toStrictEqual({ id: SERVICE_ID, props: { ...inputs, drift: problem } });
    expect(diffAfterRead(releaseHandler, result.props, inputs)).toStrictEqual(UPDATE);
  });

  it("reads as gone when there is no record", async () => {
    await expect(
      releaseHandler.read(SERVICE_ID, inputs, scriptedHost(answer(null)).run),
    ).resolves.toStrictEqual(GONE);
  });
});

describe("an agent's read", () => {
  const installed = "d".repeat(64);
  const state = { connection: BOX, bundlePath: "/tmp/conductor-host.js", bundleSha256: installed };

  it("runs the fixed script, without conductor, and reads the same command as stored", async () => {
    const host = scriptedHost(`${installed}  -\n`);
    const result = await agentHandler.read("box", state, host.run);
    expect(host.calls).toStrictEqual([
      { conn: BOX, argv: ["sh", "-c", INSTALLED_SCRIPT], input: "" },
    ]);
    expect(result).toStrictEqual({ id: "box", props: state });
    expect(diffAfterRead(agentHandler, result.props, state)).toStrictEqual(NO_CHANGE);
  });

  it("reads another command as its hash, which diff makes an update (a reinstall)", async () => {
    const result = await agentHandler.read(
      "box",
      state,
      scriptedHost(`${"e".repeat(64)}  -\n`).run,
    );
    expect(result.props).toStrictEqual({ ...state, bundleSha256: "e".repeat(64) });
    expect(diffAfterRead(agentHandler, result.props, state)).toStrictEqual(UPDATE);
  });

  it("reads as gone when the command is missing", async () => {
    await expect(
      agentHandler.read("box", state, scriptedHost("missing\n").run),
    ).resolves.toStrictEqual(GONE);
  });

  it("fails on an answer that is no hash", async () => {
    await expect(
      agentHandler.read("box", state, scriptedHost("sha256sum: not found\n").run),
    ).rejects.toThrow(`host box: cannot tell the SHA-256 of ${CONDUCTOR}`);
  });

  describe("its script, run by sh", () => {
    let dir: string;
    let file: string;
    const script = () => INSTALLED_SCRIPT.replaceAll(CONDUCTOR, file);
    const sh = () => execFileSync("sh", ["-c", script()], { encoding: "utf8" });

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-read-"));
      file = path.join(dir, "conductor");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("prints the SHA-256 of an installed command", () => {
      fs.writeFileSync(file, "#!/usr/bin/env node\n", { mode: 0o755 });
      const sha = crypto.createHash("sha256").update("#!/usr/bin/env node\n").digest("hex");
      expect(sh()).toBe(`${sha}  -\n`);
    });

    it.each([
      ["there is none", () => undefined],
      ["it cannot be run", () => fs.writeFileSync(file, "x", { mode: 0o644 })],
    ])("prints missing when %s", (_, arrange) => {
      arrange();
      expect(sh()).toBe("missing\n");
    });
  });
});

describe("an image's read", () => {
  const inputs = {
    connection: BOX,
    serviceId: SERVICE_ID,
    image: IMAGE,
    revision: SHA,
    registry: "registry.example.com",
    auth: secret({ username: "deploy", password: "hunter2" }),
  };

  it("asks the host for the revision's image and reads as stored while it is there", async () => {
    const host = scriptedHost(JSON.stringify({ present: true }));
    const result = await imageHandler.read(SERVICE_ID, inputs, host.run);
    expect(asked(host.calls)).toStrictEqual({
      argv: [CONDUCTOR, "image", "read"],
      request: { serviceId: SERVICE_ID, image: IMAGE, revision: SHA },
    });
    expect(result).toStrictEqual({ id: SERVICE_ID, props: inputs });
  });

  it("reads as gone when the host lost the revision's image (the next up pulls it)", async () => {
    const host = scriptedHost(JSON.stringify({ present: false }));
    await expect(imageHandler.read(SERVICE_ID, inputs, host.run)).resolves.toStrictEqual(GONE);
  });

  // Docker lists it as `nginx:<tag>`: a read by listed tags found it gone on every refresh.
  it("asks for a docker.io image by the name configured, which Docker resolves", async () => {
    const hub = { ...inputs, image: "docker.io/library/nginx", registry: "docker.io" };
    const host = scriptedHost(JSON.stringify({ present: true }));
    const result = await imageHandler.read(SERVICE_ID, hub, host.run);
    expect(asked(host.calls).request).toStrictEqual({
      serviceId: SERVICE_ID,
      image: "docker.io/library/nginx",
      revision: SHA,
    });
    expect(result).toStrictEqual({ id: SERVICE_ID, props: hub });
  });
});

describe("a predeploy's read", () => {
  it("keeps the state, asking the host nothing: a migration leaves nothing to read", async () => {
    const state = { connection: BOX, serviceId: SERVICE_ID, revision: SHA };
    await expect(predeployHandler.read(SERVICE_ID, state, neverRuns)).resolves.toStrictEqual({
      id: SERVICE_ID,
      props: state,
    });
  });
});

describe("a read the host cannot answer", () => {
  const site = { connection: BOX, serviceId: SERVICE_ID, config: "server {}\n" };

  it("fails naming the host when it cannot be reached", async () => {
    const calls: string[][] = [];
    const run: RunOnHost = async (conn, argv, input) => {
      calls.push(argv);
      return unreachable(conn, argv, input);
    };
    await expect(nginxSiteHandler.read(SERVICE_ID, site, run)).rejects.toThrow(
      "host box: cannot connect over SSH to root@10.0.1.11:22",
    );
    await expect(agentHandler.read("box", { ...site, bundleSha256: "x" }, run)).rejects.toThrow(
      "host box: cannot connect over SSH",
    );
    // The read alone, no check whether conductor is there: that would wait for
    // a second connect timeout on a host that drops packets. The Agent's read is the check.
    expect(calls.map((argv) => argv[0])).toStrictEqual([CONDUCTOR, "sh"]);
  });

  // How a missing command fails: dash and bash over ssh (exit 127), or the spawn here.
  it.each([
    "host box: sh: 1: /usr/local/bin/conductor: not found",
    "host box: bash: line 1: /usr/local/bin/conductor: No such file or directory",
    "host box: cannot run /usr/local/bin/conductor: spawn /usr/local/bin/conductor ENOENT",
  ])("checks whether conductor is there when the read fails with %s", async (message) => {
    const calls: string[][] = [];
    const run: RunOnHost = async (_conn, argv) => {
      calls.push(argv);
      if (argv[0] === "sh") return "missing\n";
      throw new HostCommandError(message);
    };
    await expect(nginxSiteHandler.read(SERVICE_ID, site, run)).resolves.toStrictEqual({
      id: SERVICE_ID,
      props: site,
    });
    expect(calls.map((argv) => argv[0])).toStrictEqual([CONDUCTOR, "sh"]);
  });

  it("keeps the stored state, and says so, where conductor is missing", async () => {
    const said: string[] = [];
    const run: RunOnHost = async (_conn, argv) => {
      if (argv[0] === "sh") return "missing\n";
      throw new HostCommandError("host box: sh: 1: /usr/local/bin/conductor: not found");
    };
    const result = await nginxSiteHandler.read(
      SERVICE_ID,
      site,
      run,
      async (m) => void said.push(m),
    );
    expect(result).toStrictEqual({ id: SERVICE_ID, props: site });
    expect(said).toStrictEqual([
      "host box: /usr/local/bin/conductor is missing, so this fleet:index:NginxSite was not read and its stored state is kept; `pulumi up` installs conductor (the host's fleet:index:Agent), then refresh again",
    ]);
  });

  it("keeps the stored state where conductor is older than the read", async () => {
    const said: string[] = [];
    const run: RunOnHost = async () => {
      throw new HostCommandError("host box: unknown command container read\nusage: conductor ...");
    };
    const state = { connection: BOX, serviceId: SERVICE_ID, name: NAME };
    const result = await containerHandler.read(NAME, state, run, async (m) => void said.push(m));
    expect(result).toStrictEqual({ id: NAME, props: state });
    expect(said[0]).toMatch(
      /^host box: its conductor is older than this deploy \(it has no `container read`\)/,
    );
  });

  it("fails with the host's error where conductor answers that the read failed", async () => {
    const run: RunOnHost = async (_conn, argv) => {
      if (argv[0] === "sh") throw new Error("conductor answered: no check needed");
      throw new HostCommandError("host box: cannot reach the Docker daemon");
    };
    const state = { connection: BOX, serviceId: SERVICE_ID, name: NAME };
    await expect(containerHandler.read(NAME, state, run)).rejects.toThrow(
      "host box: cannot reach the Docker daemon",
    );
  });
});

describe("FleetProvider's read", () => {
  it("reaches the URN's handler, with its messages under that URN", async () => {
    const said: string[] = [];
    const run: RunOnHost = async (_conn, argv) => {
      if (argv[0] === "sh") return "missing\n";
      throw new HostCommandError("host box: sh: 1: /usr/local/bin/conductor: not found");
    };
    const provider = new FleetProvider(run, async (urn, m) => void said.push(`${urn}: ${m}`));
    const urn =
      "urn:pulumi:dev::conductor::conductor:index:Service$fleet:index:Release::web-box-release";
    const state = {
      connection: BOX,
      serviceId: SERVICE_ID,
      image: IMAGE,
      revision: SHA,
      containers: [],
    };
    await expect(provider.read(SERVICE_ID, urn, state)).resolves.toStrictEqual({
      id: SERVICE_ID,
      props: state,
    });
    expect(said[0]).toMatch(
      new RegExp(`^${urn.replaceAll("$", "\\$")}: host box: ${CONDUCTOR} is missing`),
    );
  });
});
