// Everything a host handler does to the world, as one object the handlers
// take as their last argument: Docker, the state store and its locks,
// programs, the health probe, the clock, the files conductor installs for
// nginx and cron, and this host's processes. hostEffects() gives the real
// ones (the default); unit tests pass fakes (fakes.testutil.ts).
import * as crypto from "node:crypto";
import * as net from "node:net";
import { attach } from "./attach";
import { type DockerClient, dockerClient } from "./docker";
import { exec, type ExecOptions, type ExecResult } from "./exec";
import { ConfDir } from "./files";
import { probe, type Probe, sleep } from "./health";
import { socketLocks, type Locks } from "./lock";
import { deployActivity, type DeployActivity } from "./nginx-batch";
import { cmdline, nginxWorkers, type NginxWorkers, spawnSupervisor } from "./proc";
import { defaultStore, type HostStore } from "./store";
import type { HealthCheckSpec } from "../protocol/requests";

export type Log = (line: string) => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Processes {
  /** This process's id and environment. */
  readonly pid: number;
  readonly env: NodeJS.ProcessEnv;
  /** The conductor script this process runs (process.argv[1]). */
  readonly script: string;
  /** process.kill; signal 0 only checks that the process exists. */
  kill(pid: number, signal: NodeJS.Signals | 0): void;
  /** A process's argument vector from /proc; undefined when it is gone. */
  cmdline(pid: number): string[] | undefined;
  /** Calls `handler` on each of `signals` until the returned function is called. */
  onSignals(
    signals: readonly NodeJS.Signals[],
    handler: (signal: NodeJS.Signals) => void,
  ): () => void;
  /** Starts a detached `conductor supervise` logging to `logFile`; its pid. */
  spawnSupervisor(logFile: string): number | undefined;
}

export interface HostEffects {
  docker: DockerClient;
  store: HostStore;
  locks: Locks;
  /** Runs a program with an argument vector (nginx -t, nginx -s reload). */
  exec(file: string, args: string[], options?: ExecOptions): Promise<ExecResult>;
  /** One GET of a container's health path on 127.0.0.1:<port>. */
  probe(port: number, check: HealthCheckSpec): Promise<Probe>;
  clock: Clock;
  random: {
    /** In [0, 1): where the search for a free port starts. */
    fraction(): number;
    /** `bytes` random bytes in hex: the unique part of one-off container names. */
    hex(bytes: number): string;
  };
  /** Whether nothing listens on 127.0.0.1:<port> (the port search). */
  canListen(port: number): Promise<boolean>;
  /** /etc/nginx/conf.d (CONDUCTOR_NGINX_CONF_DIR). */
  nginxConfDir: ConfDir;
  /** /etc/cron.d (CONDUCTOR_CRON_DIR). */
  cronDir: ConfDir;
  /** nginx's workers, from one look at /proc. */
  nginxWorkers(): NginxWorkers;
  /** What this host is doing that may bring more nginx changes soon (nginx-batch.ts). */
  deployActivity(): DeployActivity;
  /** `docker start --attach --interactive <name>`, for `conductor run`. */
  attach(name: string, interactive: boolean): Promise<void>;
  processes: Processes;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function onSignals(signals: readonly NodeJS.Signals[], handler: (s: NodeJS.Signals) => void) {
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

/**
 * One Locks per lock directory in a process, so that what waits there for a
 * lock is seen together: container.ts groups the creates that wait for the
 * port lock by it. `conductor serve` makes effects per request.
 */
const locksByDir = new Map<string, Locks>();

function locksOf(dir: string): Locks {
  let locks = locksByDir.get(dir);
  if (!locks) locksByDir.set(dir, (locks = socketLocks(dir)));
  return locks;
}

/** The real effects; the environment names the state and config directories. */
export function hostEffects(env: NodeJS.ProcessEnv = process.env): HostEffects {
  const store = defaultStore(env);
  return {
    docker: dockerClient,
    store,
    locks: locksOf(store.locksDir),
    exec,
    probe,
    clock: { now: () => Date.now(), sleep },
    random: {
      fraction: () => Math.random(),
      hex: (bytes) => crypto.randomBytes(bytes).toString("hex"),
    },
    canListen,
    nginxConfDir: new ConfDir(env.CONDUCTOR_NGINX_CONF_DIR ?? "/etc/nginx/conf.d", 0o644),
    cronDir: new ConfDir(env.CONDUCTOR_CRON_DIR ?? "/etc/cron.d", 0o644),
    nginxWorkers,
    deployActivity: () => deployActivity(store),
    attach,
    processes: {
      pid: process.pid,
      env,
      script: process.argv[1],
      kill: (pid, signal) => void process.kill(pid, signal),
      cmdline,
      onSignals,
      spawnSupervisor,
    },
  };
}
