// `npx conductor logs --stack S --service X [-f] [--since D] [--tail N] [--host H]`:
// `conductor logs --json` on each of the service's hosts at once, over the
// deploy's SSH, merged by time. Following, Ctrl-C (or SIGTERM) ends the ssh
// sessions; each host's `conductor logs` ends when its input closes with them
// (host/logs.ts), so nothing is left running on any host.
import { type ChildProcess, spawn } from "node:child_process";
import * as readline from "node:readline";
import type { Connection } from "../protocol/connection";
import { logEvent, type LogQuery, logsArgv } from "../protocol/logs";
import { CONDUCTOR_BIN } from "../protocol/rules";
import { hostCommand, runOnHost } from "../provider/transport";
import { reason } from "./hosts";
import { formatHostEvent, LogMerger } from "./merge";

/** How long a followed line waits for earlier ones from other hosts. */
const HOLD_MS = 500;

export interface LogsRun {
  serviceId: string;
  connections: Connection[];
  query: LogQuery;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Streams one host's events into the merger; resolves with its exit code. */
function streamHost(
  conn: Connection,
  run: LogsRun,
  merger: LogMerger,
  children: Set<ChildProcess>,
  stopping: () => boolean,
): Promise<number> {
  const [file, args] = hostCommand(conn, logsArgv(run.serviceId, run.query));
  // stdin stays open and empty: the host command follows until it closes.
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const event = logEvent.safeParse(parsed);
    if (event.success) merger.push(conn.host, event.data, Date.now());
    else run.err(`${conn.host}: unexpected output from conductor logs: ${line.slice(0, 200)}`);
  });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  return new Promise((resolve) => {
    child.on("error", (e) => {
      run.err(`${conn.host}: cannot run ${file}: ${e.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      children.delete(child);
      // Ended by Ctrl-C or by us: ssh's own exit code says nothing then.
      if (stopping()) return resolve(0);
      if (code !== 0 && signal === null) {
        const last = stderr.filter((l) => l.trim()).pop() ?? `exit code ${code}`;
        run.err(`${conn.host}: conductor logs ended: ${last.replace(/^conductor: /, "")}`);
      }
      resolve(code ?? 0);
    });
  });
}

/** Runs the command: resolves to the exit code (1 when some host could not be read). */
export async function streamLogs(run: LogsRun): Promise<number> {
  // Reach each host first: the master connection is up before the long session,
  // and an unreachable host is said once, in the deploy's words.
  const reached = await Promise.all(
    run.connections.map(async (conn) => {
      try {
        if (!conn.local) await runOnHost(conn, [CONDUCTOR_BIN, "version"], "");
        return conn;
      } catch (err) {
        run.err(`${conn.host}: ${reason(conn.host, err)}; its logs are left out`);
        return undefined;
      }
    }),
  );
  const reachable = reached.filter((c): c is Connection => c !== undefined);
  let failed = reachable.length < run.connections.length;
  const merger = new LogMerger((e) => run.out(formatHostEvent(e)), HOLD_MS);
  const children = new Set<ChildProcess>();
  const ticker = run.query.follow ? setInterval(() => merger.flush(Date.now()), 100) : undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const codes = await Promise.all(
      reachable.map((c) => streamHost(c, run, merger, children, () => stopping)),
    );
    failed ||= codes.some((c) => c !== 0);
  } finally {
    clearInterval(ticker);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    merger.flush(Date.now(), true);
  }
  return failed ? 1 : 0;
}
