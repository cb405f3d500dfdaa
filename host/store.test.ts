// The host state store and its file primitives, on a temp dir: where each
// thing lives, root-only modes, one atomic write, and readers that tell a
// missing file from a corrupt or unreadable one, naming it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import type { ContainerSpec } from "../protocol/requests";
import { ConfDir, listJson, readText, StoreError, writeFileAtomic } from "./files";
import { type ContainerRecord, defaultStore, HostStore, LABELS, LOCKS } from "./store";

// The module object itself: its properties can be spied on, unlike an `import *` namespace's.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require("node:fs") as typeof fs;

const SPEC: ContainerSpec = {
  serviceId: "shop_web_production",
  slot: 0,
  image: "registry.example.com/shop/web",
  revision: "279d903",
  env: { SECRET: "hunter2" },
  stopTimeoutMs: 30_000,
};
const RECORD: ContainerRecord = {
  name: "shop_web_production-0-abcdef0123",
  hostPort: 20001,
  spec: SPEC,
};

let dir: string;
let store: HostStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-store-"));
  store = new HostStore(path.join(dir, "state"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("writeFileAtomic", () => {
  it("writes the content with the mode and leaves no temporary file", () => {
    const file = path.join(dir, "a.conf");
    writeFileAtomic(file, "one\n", 0o644);
    writeFileAtomic(file, "two\n", 0o644);
    expect(fs.readFileSync(file, "utf8")).toBe("two\n");
    expect(mode(file)).toBe(0o644);
    expect(fs.readdirSync(dir)).toEqual(["a.conf"]);
  });

  it("removes its temporary file when the rename fails, and throws", () => {
    const target = path.join(dir, "busy");
    fs.mkdirSync(path.join(target, "inside"), { recursive: true });
    expect(() => writeFileAtomic(target, "x", 0o600)).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(fs.readdirSync(dir)).toEqual(["busy"]);
  });
});

describe("readers", () => {
  it("tell a missing file from an unreadable one, naming the file", () => {
    const missing = path.join(dir, "nope");
    expect(readText(missing)).toEqual({ status: "missing", file: missing });
    // A directory where a file should be: an IO error other than ENOENT (EACCES cannot be made as root).
    expect(readText(dir)).toEqual({
      status: "unreadable",
      file: dir,
      message: `cannot read ${dir}: EISDIR: illegal operation on a directory`,
    });
  });

  it("tell a file that is not JSON from one of the wrong shape, without quoting values", () => {
    fs.mkdirSync(store.containersDir, { recursive: true });
    fs.writeFileSync(store.containerFile("a"), "not json");
    fs.writeFileSync(
      store.containerFile("b"),
      JSON.stringify({ name: "b", spec: { ...SPEC, env: { SECRET: 42 } } }),
    );
    const a = store.readContainer("a");
    expect(a).toMatchObject({ status: "corrupt", file: store.containerFile("a") });
    expect(a.status === "corrupt" && a.message).toMatch(
      new RegExp(`^${store.containerFile("a")} is not JSON: `),
    );
    expect(store.readContainer("b")).toEqual({
      status: "corrupt",
      file: store.containerFile("b"),
      message: `${store.containerFile("b")} is not a container record: spec.env.SECRET: Invalid input: expected string, received number`,
    });
  });

  it("list the good files of a directory and a fault for each bad one, ignoring other names", () => {
    store.writeContainer(RECORD);
    fs.writeFileSync(store.containerFile("broken"), "{");
    fs.writeFileSync(path.join(store.containersDir, ".x.json.123.tmp"), "{");
    fs.writeFileSync(path.join(store.containersDir, "notes.txt"), "");
    const listing = store.readContainers();
    expect(listing.values).toEqual([RECORD]);
    expect(listing.faults).toEqual([
      expect.objectContaining({
        status: "corrupt",
        name: "broken",
        file: store.containerFile("broken"),
      }),
    ]);
  });

  it("list nothing for a directory that does not exist, and throw naming one that cannot be listed", () => {
    expect(store.readReleases()).toEqual({ values: [], faults: [] });
    const file = path.join(dir, "file");
    fs.writeFileSync(file, "");
    expect(() => listJson(file, z.unknown(), "x")).toThrow(StoreError);
    expect(() => listJson(file, z.unknown(), "x")).toThrow(`cannot list ${file}: ENOTDIR`);
  });
});

describe("HostStore", () => {
  it("keeps container records root-only under containers/", () => {
    store.writeContainer(RECORD);
    const file = path.join(dir, "state", "containers", `${RECORD.name}.json`);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(RECORD);
    expect(mode(file)).toBe(0o600);
    expect(mode(store.root)).toBe(0o700);
    expect(mode(store.containersDir)).toBe(0o700);
    expect(store.readContainer(RECORD.name)).toEqual({ status: "ok", value: RECORD });
    store.removeContainer(RECORD.name);
    store.removeContainer(RECORD.name); // already gone is fine
    expect(store.readContainer(RECORD.name).status).toBe("missing");
  });

  it("reads a release file written by an earlier version, and keeps its format", () => {
    // What `release apply` wrote before the store: the request, as JSON.
    const old = {
      serviceId: "shop_web_production",
      image: "registry.example.com/shop/web",
      revision: "279d903",
      env: { SECRET: "hunter2" },
      containers: ["shop_web_production-0-abcdef0123"],
      supervise: true,
    };
    fs.mkdirSync(store.releasesDir, { recursive: true });
    fs.writeFileSync(store.releaseFile(old.serviceId), JSON.stringify(old, null, 2));
    expect(store.readRelease(old.serviceId)).toEqual({ status: "ok", value: old });
    store.writeRelease(old);
    expect(fs.readFileSync(store.releaseFile(old.serviceId), "utf8")).toBe(
      JSON.stringify(old, null, 2),
    );
    expect(mode(store.releaseFile(old.serviceId))).toBe(0o600);
    expect(store.releaseIds()).toEqual(["shop_web_production"]);
  });

  it("pauses and resumes a service", () => {
    expect(store.isPaused("a")).toBe(false);
    store.pause("a", new Date("2026-11-26T08:00:00.000Z"));
    expect(store.isPaused("a")).toBe(true);
    expect(fs.readFileSync(path.join(store.root, "paused", "a"), "utf8")).toBe(
      "2026-11-26T08:00:00.000Z\n",
    );
    store.resume("a");
    store.resume("a");
    expect(store.isPaused("a")).toBe(false);
  });

  it("keeps the supervisor's pid and status", () => {
    expect(store.readSupervisorPid().status).toBe("missing");
    store.writeSupervisorPid(1234);
    expect(fs.readFileSync(path.join(store.root, "supervise.pid"), "utf8")).toBe("1234\n");
    expect(store.readSupervisorPid()).toEqual({ status: "ok", value: 1234 });
    fs.writeFileSync(store.supervisorPidFile, "garbage\n");
    expect(store.readSupervisorPid()).toEqual({
      status: "corrupt",
      file: store.supervisorPidFile,
      message: `${store.supervisorPidFile} does not hold a process id`,
    });
    store.removeSupervisorPid();
    expect(store.readSupervisorPid().status).toBe("missing");

    const status = {
      updatedAt: 1,
      containers: {
        a: {
          serviceId: "s",
          memory: { failures: 0, attempts: 1, notBefore: 5, restarts: 1 },
          observed: "stopped" as const,
          lastAction: "start (container stopped)",
        },
      },
    };
    store.writeSupervisorStatus(status);
    expect(path.basename(store.supervisorStatusFile)).toBe("supervisor.json");
    expect(mode(store.supervisorStatusFile)).toBe(0o600);
    expect(store.readSupervisorStatus()).toEqual({ status: "ok", value: status });
  });

  it("makes a root-only salt of 32 bytes once, and reuses it", () => {
    const salt = store.salt();
    expect(salt).toHaveLength(32);
    expect(mode(path.join(store.root, "salt"))).toBe(0o600);
    expect(new HostStore(store.root).salt()).toEqual(salt);
    expect(fs.readdirSync(store.root)).toEqual(["salt"]);
  });

  it("takes the salt another process made first, and says when it cannot read one", () => {
    const theirs = Buffer.alloc(32, 7);
    const link = fs.linkSync;
    // Another `container up` links its salt between our read and our link.
    jest.spyOn(nodeFs, "linkSync").mockImplementationOnce((from, to) => {
      fs.writeFileSync(to, theirs);
      link(from, to);
    });
    expect(store.salt()).toEqual(theirs);
    expect(fs.readdirSync(store.root)).toEqual(["salt"]);
    jest.restoreAllMocks();

    const other = new HostStore(path.join(dir, "other"));
    fs.mkdirSync(other.saltFile, { recursive: true });
    expect(() => other.salt()).toThrow(
      `cannot read ${other.saltFile}: EISDIR: illegal operation on a directory`,
    );
  });

  it("names the locks and labels the deploy and the supervisor share", () => {
    expect(store.locksDir).toBe(path.join(store.root, "locks"));
    expect([LOCKS.service("a"), LOCKS.ports, LOCKS.nginx, LOCKS.supervisor]).toEqual([
      "service-a",
      "ports",
      "nginx",
      "supervisor",
    ]);
    expect(LOCKS.run("a", ["x", "y"])).toBe(LOCKS.run("a", ["x", "y"]));
    expect(LOCKS.run("a", ["x", "y"])).not.toBe(LOCKS.run("a", ["x y"]));
    expect(LABELS).toEqual({
      service: "conductor.service",
      slot: "conductor.slot",
      port: "conductor.port",
      run: "conductor.run",
    });
  });

  it("is /var/lib/conductor unless CONDUCTOR_STATE_DIR says otherwise", () => {
    expect(defaultStore({}).root).toBe("/var/lib/conductor");
    expect(defaultStore({ CONDUCTOR_STATE_DIR: "/srv/c" }).root).toBe("/srv/c");
  });
});

describe("ConfDir", () => {
  it("reads, writes atomically with its mode, and removes", () => {
    const conf = new ConfDir(dir, 0o644);
    expect(conf.read("a.conf")).toBeUndefined();
    conf.write("a.conf", "x\n");
    expect(conf.read("a.conf")).toBe("x\n");
    expect(mode(conf.path("a.conf"))).toBe(0o644);
    expect(conf.remove("a.conf")).toBe(true);
    expect(conf.remove("a.conf")).toBe(false);
  });

  it("throws, naming the file, when a file cannot be read", () => {
    fs.mkdirSync(path.join(dir, "a.conf"));
    expect(() => new ConfDir(dir, 0o644).read("a.conf")).toThrow(
      new StoreError({
        status: "unreadable",
        file: path.join(dir, "a.conf"),
        message: `cannot read ${path.join(dir, "a.conf")}: EISDIR: illegal operation on a directory`,
      }),
    );
  });
});
