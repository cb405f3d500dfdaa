// `conductor serve`: the requests of one deploy to this host through one
// process, many at once, instead of a process each (issue 11: a revision
// change of 10 services x 2 ran 70 host commands, each a Node.js start and
// the bundle's load, ~0.2 s of CPU, or an ssh session on a remote host; on 2
// cores that was seconds of every deploy). The provider starts it at its
// first request to the host and ends it (closes its stdin) when it is done.
//
// Each request is one line of JSON on stdin, `{"id", "argv", "input"}` (argv:
// the subcommand, e.g. ["container", "up"]; input: what its stdin would be);
// each answer one line on stdout, `{"id", "code", "stdout", "stderr"}`: what
// the same request, run as a process of its own, would have exited with and
// printed, so the provider reads both alike. Answers come in the order the
// requests finish. At the end of input it finishes what it started, then exits.
import * as readline from "node:readline";
import { z } from "zod";

const requestLine = z.strictObject({
  id: z.number().int(),
  argv: z.array(z.string()),
  input: z.string(),
});

/** What a request's own process would have done: its exit code and output. */
export interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one request (main.ts): resolves to what its process would have exited with. */
export type RunRequest = (argv: string[], input: string) => Promise<Exit>;

/** The requests running in this process now, by subcommand (nginx-batch.ts counts them). */
const running = new Map<string, number>();

export function runningHere(subcommand: string): number {
  return running.get(subcommand) ?? 0;
}

/** When this process last started a request of each subcommand (Date.now()). */
const lastStarted = new Map<string, number>();

export function lastStartedHere(subcommand: string): number {
  return lastStarted.get(subcommand) ?? -Infinity;
}

/**
 * A request line this serve cannot read, most likely from a provider newer
 * than the host's conductor (each stack's Agent installs its own). Nothing of
 * the line is ever repeated: its input may hold a secret, and the provider
 * shows serve's stderr in its errors.
 */
export const UNREADABLE_REQUEST =
  "conductor: serve: a request this conductor cannot read (a provider newer than the host's conductor?); install this stack's conductor on the host (the Agent does it at its next run)\n";

/** Ends serve after a line without a readable id: who it came from cannot be answered. */
export const UNREADABLE_LINE =
  "conductor: serve: a line on its input that is not a request with an id; it reads no more, finishes the requests it has, and exits 1\n";

/**
 * Serves the lines of `input`; resolves once it has ended and every answer is
 * written: to 0, or to 1 after a line without an id (the provider's requests
 * that are then never answered fail as serve exits, rather than wait).
 */
export async function serve(
  input: NodeJS.ReadableStream,
  write: (line: string) => void,
  runRequest: RunRequest,
  writeError: (line: string) => void = (line) => process.stderr.write(line),
): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let code = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const json = safeJson(line);
    const parsed = requestLine.safeParse(json);
    if (!parsed.success) {
      const id = idOf(json);
      if (id !== undefined) {
        write(`${JSON.stringify({ id, code: 2, stdout: "", stderr: UNREADABLE_REQUEST })}\n`);
        continue;
      }
      writeError(UNREADABLE_LINE);
      code = 1;
      lines.close();
      break;
    }
    const { id, argv, input: stdin } = parsed.data;
    const subcommand = argv.slice(0, 2).join(" ");
    running.set(subcommand, runningHere(subcommand) + 1);
    lastStarted.set(subcommand, Date.now());
    const done: Promise<void> = runRequest(argv, stdin)
      .catch((err: Error) => ({ code: 1, stdout: "", stderr: `conductor: ${err.message}\n` }))
      .then((exit) => {
        running.set(subcommand, runningHere(subcommand) - 1);
        write(`${JSON.stringify({ id, ...exit })}\n`);
        inFlight.delete(done);
      });
    inFlight.add(done);
  }
  await Promise.all(inFlight);
  return code;
}

/** The id of a request line that is otherwise unreadable, if it has one. */
function idOf(json: unknown): number | undefined {
  const id = z.object({ id: z.number().int() }).safeParse(json);
  return id.success ? id.data.id : undefined;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
