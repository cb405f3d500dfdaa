// The host's file locks, for real in a temp dir: what holds, what is stale,
// and that no lock outlives a reboot.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fakeHost } from "./fakes.testutil";
import { fileLocks } from "./lock";
import { supervise } from "./supervise/loop";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-locks-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A lock as a process left it, last refreshed `ageMs` ago. */
function leftLock(name: string, ageMs: number) {
  const lock = path.join(dir, `${name}.lock`);
  fs.mkdirSync(lock);
  const at = new Date(Date.now() - ageMs);
  fs.utimesSync(lock, at, at);
}

const bootedAgo = (ms: number) => () => Date.now() - ms;
const ran = () => Promise.resolve("ran");

describe("fileLocks", () => {
  it("tryHold runs while the lock is free, and gives up while another process holds it", async () => {
    const locks = fileLocks(dir, bootedAgo(3_600_000));
    expect(await locks.tryHold("supervisor", ran)).toBe("ran");
    leftLock("supervisor", 1_000);
    expect(await locks.tryHold("supervisor", ran)).toBeUndefined();
    expect(fs.existsSync(path.join(dir, "supervisor.lock"))).toBe(true);
  });

  it("hold waits for its turn", async () => {
    const locks = fileLocks(dir, bootedAgo(3_600_000));
    const order: string[] = [];
    await Promise.all(
      ["a", "b"].map((who) =>
        locks.hold("ports", async () => {
          order.push(`${who} in`);
          await new Promise((r) => setTimeout(r, 20));
          order.push(`${who} out`);
        }),
      ),
    );
    expect(order).toEqual(["a in", "a out", "b in", "b out"]);
  });

  // A host that rebooted within a minute: the lock is younger than
  // proper-lockfile's 60 s, but its process died with the last boot.
  it("treats a lock refreshed before this boot as stale, however young", async () => {
    leftLock("supervisor", 20_000);
    expect(await fileLocks(dir, bootedAgo(5_000)).tryHold("supervisor", ran)).toBe("ran");
    leftLock("run-x-0123456789abcdef", 20_000);
    expect(await fileLocks(dir, bootedAgo(5_000)).tryHold("run-x-0123456789abcdef", ran)).toBe(
      "ran",
    );
  });

  it("keeps a lock refreshed since this boot, and age rules when the boot time is unknown", async () => {
    leftLock("supervisor", 1_000);
    expect(await fileLocks(dir, bootedAgo(5_000)).tryHold("supervisor", ran)).toBeUndefined();
    expect(await fileLocks(dir, () => undefined).tryHold("supervisor", ran)).toBeUndefined();
  });
});

describe("conductor supervise after a reboot", () => {
  it("is not kept out by the supervisor lock of the last boot", async () => {
    const host = fakeHost();
    try {
      dir = host.store.locksDir;
      fs.mkdirSync(dir, { recursive: true });
      leftLock("supervisor", 20_000);
      host.fx.locks = fileLocks(dir, bootedAgo(5_000));
      expect(await supervise(true, host.logLine, host.fx)).toBe(0);
      expect(host.log).toEqual(["supervising (pid 4242)"]);

      leftLock("supervisor", 1_000); // one started since the boot
      expect(await supervise(true, host.logLine, host.fx)).toBe(1);
    } finally {
      host.cleanup();
    }
  });
});
