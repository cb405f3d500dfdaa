// One `conductor serve` per host for all of a deploy's requests there
// (host/serve.ts), in place of a host-command process each: one Node.js start
// on the host, one ssh session, for the whole deploy (issue 11). Each answer
// is what the request's own process would have exited with and printed, so
// the transport reads it as it reads a process's (transport.ts).
import { type ChildProcess } from "node:child_process";
import * as readline from "node:readline";

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a server with no request waiting lives on before it ends itself.
 * Requests of one deploy to a host come seconds apart at most (a health wait
 * or a drain runs inside a request, so it keeps the server busy), and a start
 * costs ~0.2 s of CPU or one ssh session, so 30 s loses nothing to restarts;
 * and it bounds how long a server outlives a provider that nobody ends, e.g.
 * one orphaned by a SIGKILLed `pulumi up` (plugins run in their own process
 * group, so they outlive the CLI): 30 s, then the ssh master's ControlPersist.
 */
export const IDLE_MS = 30_000;

/** The longest tail of the server's own stderr kept for the errors of requests it leaves unanswered. */
const STDERR_KEPT = 64 * 1024;

export class HostSession {
  private nextId = 0;
  private readonly waiting = new Map<number, (exit: Exit | "unsupported") => void>();
  private stderr = "";
  private answered = false;
  private closed?: { code: number | null };
  /** It exited: its output may still be coming ('close' comes after), but it takes nothing more. */
  private exited = false;
  private ended = false;
  private idleTimer?: NodeJS.Timeout;

  /**
   * `onIdle` runs just before the server ends itself for idleness, so that
   * whoever hands out this session stops doing so before its input closes.
   */
  constructor(
    private readonly child: ChildProcess,
    private readonly idle: { ms?: number; onIdle?: (session: HostSession) => void } = {},
  ) {
    readline.createInterface({ input: child.stdout!, crlfDelay: Infinity }).on("line", (line) => {
      const answer = parseAnswer(line);
      const resolve = answer && this.waiting.get(answer.id);
      if (!answer || !resolve) return;
      this.answered = true;
      this.waiting.delete(answer.id);
      const { code, stdout, stderr } = answer;
      resolve({ code, stdout, stderr });
      this.idleUnlessWaiting();
    });
    child.stderr!.on("data", (c: Buffer) => {
      this.stderr = (this.stderr + c.toString("utf8")).slice(-STDERR_KEPT);
    });
    // It may exit before reading all we wrote; its exit says why.
    child.stdin!.on("error", () => undefined);
    child.on("error", (err) => {
      this.stderr += `cannot run ${child.spawnfile}: ${err.message}\n`;
    });
    child.on("exit", () => (this.exited = true));
    child.on("close", (code) => this.close(code));
    this.idleUnlessWaiting();
  }

  /**
   * Runs `argv` (a subcommand of conductor) with `input` as its stdin:
   * resolves to what its own process would have done, or "unsupported" when
   * the host's conductor has no `serve` (older than this provider).
   */
  request(argv: string[], input: string): Promise<Exit | "unsupported"> {
    if (this.closed) return Promise.resolve(this.unanswered());
    if (this.ended) throw new Error("a request to a conductor serve that was ended");
    const id = this.nextId++;
    const answer = new Promise<Exit | "unsupported">((resolve) => this.waiting.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ id, argv, input })}\n`);
    this.busy();
    return answer;
  }

  /**
   * Takes requests: neither exited nor ended. Not only until 'close': a
   * request written between its exit and the close of its output would be
   * lost to a server that is gone, where a new one would have answered it.
   */
  get alive(): boolean {
    return !this.exited && !this.closed && !this.ended;
  }

  /** No more requests: it finishes those it has, answers them, and exits. */
  end(): void {
    this.ended = true;
    clearTimeout(this.idleTimer);
    this.child.stdin!.end();
  }

  private close(code: number | null) {
    this.closed = { code };
    for (const resolve of this.waiting.values()) resolve(this.unanswered());
    this.waiting.clear();
    this.idleUnlessWaiting();
  }

  /**
   * What a request the server did not answer gets: its exit and stderr (ssh
   * says there why it lost the host). An older conductor refuses `serve`
   * as an unknown command (exit 2) before answering anything.
   */
  private unanswered(): Exit | "unsupported" {
    const code = this.closed?.code ?? null;
    if (code === 2 && !this.answered) return "unsupported";
    return { code: code === 0 ? 1 : code, stdout: "", stderr: this.stderr };
  }

  /** Keeps this process alive while requests wait, and only then: an idle server must not hold it. */
  private busy() {
    clearTimeout(this.idleTimer);
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
    (this.child.stderr as unknown as { ref?: () => void }).ref?.();
  }

  private idleUnlessWaiting() {
    if (this.waiting.size > 0) return;
    clearTimeout(this.idleTimer);
    if (this.alive) {
      this.idleTimer = setTimeout(() => {
        this.idle.onIdle?.(this);
        this.end();
      }, this.idle.ms ?? IDLE_MS);
      // Idle, it must not keep the provider's process alive either.
      this.idleTimer.unref();
    }
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }
}

function parseAnswer(line: string): (Exit & { id: number }) | undefined {
  try {
    const a = JSON.parse(line) as Record<string, unknown>;
    if (
      typeof a.id === "number" &&
      typeof a.code === "number" &&
      typeof a.stdout === "string" &&
      typeof a.stderr === "string"
    )
      return { id: a.id, code: a.code, stdout: a.stdout, stderr: a.stderr };
  } catch {
    // not an answer line
  }
  return undefined;
}
