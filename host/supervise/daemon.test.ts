// Whether a supervisor runs, from its pid file and /proc (faked): the cron
// watchdog starts one unless this says one runs.
import { type FakeHost, fakeHost } from "../fakes.testutil";
import {
  isSuperviseCommand,
  restartInBackground,
  runningSupervisor,
  startInBackground,
} from "./daemon";

const SUPERVISOR = ["/usr/bin/node", "/usr/local/bin/conductor", "supervise"];

let host: FakeHost;
beforeEach(() => (host = fakeHost()));
afterEach(() => host.cleanup());

/** A process `pid` running `argv`, named in the supervisor's pid file. */
function pidFileNames(pid: number, argv: string[]) {
  host.processes.table.set(pid, argv);
  host.store.writeSupervisorPid(pid);
}

describe("runningSupervisor", () => {
  it("is the pid of a live conductor supervise", () => {
    pidFileNames(812, SUPERVISOR);
    expect(runningSupervisor(host.fx)).toBe(812);
  });

  it("is none without a pid file, or when its process is gone", () => {
    expect(runningSupervisor(host.fx)).toBeUndefined();
    host.store.writeSupervisorPid(812);
    expect(runningSupervisor(host.fx)).toBeUndefined();
  });

  it("counts a process it may not signal (EPERM) as one that exists", () => {
    pidFileNames(812, SUPERVISOR);
    host.processes.foreign.add(812);
    expect(runningSupervisor(host.fx)).toBe(812);
  });

  // After a reboot the pid file can name a pid another program now has.
  it("is none when the pid is now another program's", () => {
    pidFileNames(812, ["/usr/sbin/sshd", "-D"]);
    expect(runningSupervisor(host.fx)).toBeUndefined();
  });

  it("is none when the pid is cron's watchdog, or this very process", () => {
    pidFileNames(812, [...SUPERVISOR, "--background"]);
    expect(runningSupervisor(host.fx)).toBeUndefined();
    pidFileNames(host.processes.pid, SUPERVISOR);
    expect(runningSupervisor(host.fx)).toBeUndefined();
  });
});

describe("isSuperviseCommand", () => {
  it.each<[string[], boolean]>([
    [SUPERVISOR, true],
    [["node", "/opt/dist/conductor-host.js", "supervise"], true],
    [["node", "-r", "esbuild-register", "/work/host/main.ts", "supervise"], true], // this process's own script
    [[...SUPERVISOR, "--restart"], false],
    [["node", "/usr/local/bin/conductor", "status"], false],
    [["supervise"], false],
    [["node", "/srv/app/server.js", "supervise"], false],
  ])("%j: %s", (argv, expected) => {
    expect(isSuperviseCommand(argv, "/work/host/main.ts")).toBe(expected);
  });
});

describe("startInBackground", () => {
  it("starts one when the pid file names another program (a rebooted host)", () => {
    pidFileNames(812, ["/usr/sbin/sshd", "-D"]);
    expect(startInBackground(host.logLine, host.fx)).toBe(0);
    expect(host.trace).toEqual(["spawn conductor supervise >> /var/log/conductor-supervise.log"]);
    expect(host.log).toEqual([
      "started in the background (pid 5000), logging to /var/log/conductor-supervise.log",
    ]);
  });

  it("starts none while one runs", () => {
    pidFileNames(812, SUPERVISOR);
    expect(startInBackground(host.logLine, host.fx)).toBe(0);
    expect(host.trace).toEqual([]);
  });
});

describe("restartInBackground", () => {
  it("stops the running one, waits until it is gone, and starts another", async () => {
    pidFileNames(812, SUPERVISOR);
    let waits = 0;
    host.fx.clock.sleep = async () => {
      if (++waits === 3) host.processes.table.delete(812); // it finished its pass
    };
    expect(await restartInBackground(host.logLine, host.fx)).toBe(0);
    expect(waits).toBe(3);
    expect(host.trace).toEqual([
      "kill 812 SIGTERM",
      "spawn conductor supervise >> /var/log/conductor-supervise.log",
    ]);
  });
});
