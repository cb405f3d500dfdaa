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

/** The longest tail of the server's own stderr kept for the errors of requests it leaves unanswered. */
const STDERR_KEPT = 64 * 1024;

export class HostSession {
  private nextId = 0;
  private readonly waiting = new Map<number, (exit: Exit | "unsupported") => void>();
  private stderr = "";
  private answered = false;
  private closed?: { code: number | null };

  constructor(private readonly child: ChildProcess) {
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
    const id = this.nextId++;
    const answer = new Promise<Exit | "unsupported">((resolve) => this.waiting.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ id, argv, input })}\n`);
    this.busy();
    return answer;
  }

  get alive(): boolean {
    return !this.closed;
  }

  /** No more requests: it finishes those it has, answers them, and exits. */
  end(): void {
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
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
    (this.child.stderr as unknown as { ref?: () => void }).ref?.();
  }

  private idleUnlessWaiting() {
    if (this.waiting.size > 0) return;
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
