// Docker's multiplexed log stream, built by hand; the create body; exec against
// a fake Engine. Not proven here: that the daemon frames logs this way for
// every version, or reads these fields as meant (the e2e tests use the real one).
// The events stream against a fake Engine: lines split across chunks, its end.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import {
  createBody,
  demultiplex,
  dockerListsAs,
  type execInContainer,
  type removeContainer,
  type streamEvents,
} from "./docker";

const STDOUT = 1;
const STDERR = 2;

/** One frame: [stream, 0, 0, 0, size (4 bytes big-endian)] + payload. */
function frame(stream: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8");
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe("demultiplex", () => {
  it("interleaves stdout and stderr payloads in order, without headers", () => {
    const buffer = Buffer.concat([
      frame(STDOUT, "listening on :3000\n"),
      frame(STDERR, "warning: slow query\n"),
      frame(STDOUT, ""),
      frame(STDOUT, "GET /health 200\n"),
    ]);
    expect(demultiplex(buffer)).toBe("listening on :3000\nwarning: slow query\nGET /health 200\n");
  });

  it("keeps what arrived of a cut-off last frame", () => {
    const cut = frame(STDERR, "fatal: out of memory\n").subarray(0, 8 + 5);
    expect(demultiplex(Buffer.concat([frame(STDOUT, "ok\n"), cut]))).toBe("ok\nfatal");
  });

  it("ignores a last header that is cut off", () => {
    const cut = frame(STDOUT, "more").subarray(0, 5);
    expect(demultiplex(Buffer.concat([frame(STDOUT, "ok\n"), cut]))).toBe("ok\n");
  });

  // Docker splits payloads at arbitrary bytes, so decoding must wait for the whole stream.
  it("joins a character split across two frames", () => {
    const check = Buffer.from("✓", "utf8");
    const buffer = Buffer.concat([
      frame(STDOUT, Buffer.concat([Buffer.from("done "), check.subarray(0, 1)])),
      frame(STDOUT, check.subarray(1)),
    ]);
    expect(demultiplex(buffer)).toBe("done ✓");
  });

  it("gives nothing for an empty stream", () => {
    expect(demultiplex(Buffer.alloc(0))).toBe("");
  });
});

describe("dockerListsAs", () => {
  // What `docker images` showed after `docker tag` to docker.io/library/zz-test,
  // docker.io/acme/zz-test, library/zz-test, docker.io/library/team/zz-test:
  // zz-test, acme/zz-test, zz-test, library/team/zz-test.
  it.each([
    ["docker.io/library/app", "app"],
    ["index.docker.io/library/app", "app"],
    ["docker.io/acme/app", "acme/app"],
    ["index.docker.io/acme/app", "acme/app"],
    ["library/app", "app"],
    ["app", "app"],
    ["acme/app", "acme/app"],
    ["registry.example.com/library/app", "registry.example.com/library/app"],
    ["localhost:5000/app", "localhost:5000/app"],
    ["docker.io/library/team/app", "library/team/app"],
  ])("lists %s as %s", (configured, listed) => {
    expect(dockerListsAs(configured)).toBe(listed);
  });
});

describe("createBody", () => {
  const base = {
    name: "c",
    image: "shop/app:279d903",
    env: {},
    labels: {},
    stopTimeoutSeconds: 30,
  };

  it("maps the runtime fields to Engine API 1.41: Binds, Memory (no swap on top), NanoCpus, LogConfig, User, StopSignal", () => {
    const body = createBody({
      ...base,
      volumes: [
        { source: "uploads", target: "/app/uploads", readOnly: false },
        { source: "/srv/certs", target: "/certs", readOnly: true },
      ],
      memoryBytes: 512 * 1024 * 1024,
      cpus: 1.5,
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } },
      user: "app",
      stopSignal: "SIGQUIT",
    });
    expect(body).toMatchObject({ User: "app", StopSignal: "SIGQUIT" });
    expect(body.HostConfig).toEqual({
      Binds: ["uploads:/app/uploads", "/srv/certs:/certs:ro"],
      Memory: 536870912,
      MemorySwap: 536870912,
      NanoCpus: 1_500_000_000,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "5" } },
      AutoRemove: false,
      PortBindings: undefined,
      RestartPolicy: { Name: "no" },
    });
  });

  it("leaves every runtime field to Docker when the options have none", () => {
    const body = createBody(base);
    expect([body.User, body.StopSignal]).toEqual([undefined, undefined]);
    const { Binds, Memory, MemorySwap, NanoCpus, LogConfig } = body.HostConfig;
    expect([Binds, Memory, MemorySwap, NanoCpus, LogConfig]).toEqual(Array(5).fill(undefined));
    // JSON drops undefined keys: the daemon sees no such field at all.
    expect(Object.keys(JSON.parse(JSON.stringify(body.HostConfig)) as object)).toEqual([
      "AutoRemove",
      "RestartPolicy",
    ]);
  });
});

describe("execInContainer and removeContainer, against a fake Engine on a unix socket", () => {
  let server: http.Server;
  let dir: string;
  let exec: typeof execInContainer;
  let remove: typeof removeContainer;
  /** What the fake answers a DELETE of a container. */
  let removal: { status: number; message: string };
  /** What the fake's exec does: its output, exit code, and how long it takes. */
  let behaviour: { output: string; exitCode: number; ms: number; pid: number };
  const requests: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-docker-"));
    const socket = path.join(dir, "docker.sock");
    let finished = false;
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.url?.endsWith("/exec") && req.method === "POST") {
        finished = false;
        res.writeHead(201).end(JSON.stringify({ Id: "e1" }));
      } else if (req.url === "/exec/e1/start") {
        res.writeHead(200, { "Content-Type": "application/vnd.docker.raw-stream" });
        const timer = setTimeout(() => {
          finished = true;
          res.end(frame(STDOUT, behaviour.output));
        }, behaviour.ms);
        res.on("close", () => clearTimeout(timer));
      } else if (req.method === "DELETE") {
        res.writeHead(removal.status).end(JSON.stringify({ message: removal.message }));
      } else if (req.url === "/exec/e1/json") {
        const info = { Running: !finished, ExitCode: finished ? behaviour.exitCode : null };
        res.writeHead(200).end(JSON.stringify({ ...info, Pid: behaviour.pid }));
      } else res.writeHead(404).end(JSON.stringify({ message: "no such route" }));
    });
    await new Promise<void>((r) => server.listen(socket, r));
    process.env.CONDUCTOR_DOCKER_SOCKET = socket;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const docker = require("./docker") as typeof import("./docker");
      exec = docker.execInContainer;
      remove = docker.removeContainer;
    });
  });
  afterAll(async () => {
    delete process.env.CONDUCTOR_DOCKER_SOCKET;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => (requests.length = 0));

  it("creates the exec, runs it attached, then reads its exit code", async () => {
    behaviour = { output: "queue depth 3\n", exitCode: 1, ms: 10, pid: 0 };
    expect(await exec("shop_worker-0-abc", ["bin/healthcheck"], 2000)).toEqual({
      exitCode: 1,
      output: "queue depth 3\n",
    });
    expect(requests).toEqual([
      "POST /containers/shop_worker-0-abc/exec",
      "POST /exec/e1/start",
      "GET /exec/e1/json",
    ]);
  });

  it("kills a command still running at the timeout, by the pid Docker reports, and gives no exit code", async () => {
    const sleeper = spawn("sleep", ["30"]);
    const died = new Promise((r) => sleeper.on("exit", (_code, signal) => r(signal)));
    behaviour = { output: "", exitCode: 0, ms: 5000, pid: sleeper.pid! };
    const started = Date.now();
    expect(await exec("w", ["sleep", "30"], 200)).toEqual({ output: "" });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await died).toBe("SIGKILL");
  });

  // Two conductor processes stopping the same old container (a release and a cleanup).
  it("takes a removal already in progress (409) as done, as it does a container already gone (404)", async () => {
    removal = { status: 409, message: "removal of container c1 is already in progress" };
    await expect(remove("c1")).resolves.toBeUndefined();
    removal = { status: 404, message: "No such container: c1" };
    await expect(remove("c1")).resolves.toBeUndefined();
    expect(requests).toEqual([
      "DELETE /containers/c1?force=true&v=true",
      "DELETE /containers/c1?force=true&v=true",
    ]);
  });

  it("fails on any other status, with Docker's message", async () => {
    removal = { status: 500, message: "driver failed removing container" };
    await expect(remove("c1")).rejects.toThrow("driver failed removing container");
  });
});

describe("streamEvents, against a fake Engine on a unix socket", () => {
  let server: http.Server;
  let dir: string;
  let stream: typeof streamEvents;
  let url = "";
  const FILTERS = { label: ["conductor.service"], event: ["die", "oom"] };
  const die = {
    Type: "container",
    Action: "die",
    Actor: {
      ID: "c1",
      Attributes: { name: "shop_web-0-abc", "conductor.service": "shop_web", exitCode: "137" },
    },
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-events-"));
    const socket = path.join(dir, "docker.sock");
    server = http.createServer((req, res) => {
      url = req.url ?? "";
      res.writeHead(200, { "Content-Type": "application/json" });
      if (url.includes("reset")) {
        res.write(`${JSON.stringify(die)}\n`);
        setTimeout(() => res.socket?.destroy(), 20); // the daemon killed mid-stream
        return;
      }
      const line = JSON.stringify(die);
      // One event split across two writes, a second whole, then the daemon goes away.
      res.write(line.slice(0, 20));
      setTimeout(() => res.write(`${line.slice(20)}\n`), 20);
      setTimeout(() => res.end(`${JSON.stringify({ ...die, Action: "oom" })}\n`), 40);
    });
    await new Promise<void>((r) => server.listen(socket, r));
    process.env.CONDUCTOR_DOCKER_SOCKET = socket;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      stream = (require("./docker") as typeof import("./docker")).streamEvents;
    });
  });
  afterAll(async () => {
    delete process.env.CONDUCTOR_DOCKER_SOCKET;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("passes each JSON line on as an event, with the filters asked for, and resolves when the daemon closes it", async () => {
    const seen: string[] = [];
    await stream(
      FILTERS,
      {
        onOpen: () => seen.push("open"),
        onEvent: (e) => seen.push(`${e.action} ${e.name} ${e.attributes.exitCode}`),
      },
      new AbortController().signal,
    );
    expect(seen).toEqual(["open", "die shop_web-0-abc 137", "oom shop_web-0-abc 137"]);
    expect(JSON.parse(decodeURIComponent(url.split("filters=")[1]))).toEqual({
      type: ["container"],
      label: ["conductor.service"],
      event: ["die", "oom"],
    });
  });

  it("ends (resolves) when the daemon resets the connection mid-stream, as a killed dockerd does", async () => {
    const seen: string[] = [];
    const filters = { label: ["reset"], event: ["die"] };
    const handlers = {
      onOpen: () => undefined,
      onEvent: (e: { action: string }) => seen.push(e.action),
    };
    await stream(filters, handlers, new AbortController().signal);
    expect(seen).toEqual(["die"]);
  });

  it("rejects, saying so, when the daemon cannot be reached", async () => {
    process.env.CONDUCTOR_DOCKER_SOCKET = path.join(dir, "absent.sock");
    let absent!: typeof streamEvents;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      absent = (require("./docker") as typeof import("./docker")).streamEvents;
    });
    const handlers = { onOpen: () => undefined, onEvent: () => undefined };
    await expect(absent(FILTERS, handlers, new AbortController().signal)).rejects.toThrow(
      /^cannot reach the Docker daemon at .*absent\.sock: /,
    );
  });
});
