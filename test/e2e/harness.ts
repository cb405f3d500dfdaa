// Drives the real Pulumi CLI against this checkout's program for end-to-end
// tests: one state backend per test run, one config file per test stack, so
// tests never touch Pulumi.<stack>.yaml files of the repo.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string; // stdout and stderr, interleaved as they came
}

export function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: "pipe",
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
      output += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
      output += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, output }));
    // A program that exits without reading stdin (ssh-keygen) makes the write
    // fail with EPIPE; its exit status says what happened.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Polls `check` every 50 ms until it holds; the ms that took, or an error naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

export class TestStack {
  readonly configFile: string;
  /** The environment pulumi runs with for this stack (backend, passphrase). */
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly name: string,
    readonly dir: string,
  ) {
    this.configFile = path.join(dir, `Pulumi.${name}.yaml`);
    this.env = {
      ...process.env,
      PULUMI_BACKEND_URL: localBackendUrl(path.join(dir, "state")),
      PULUMI_CONFIG_PASSPHRASE: "e2e-test-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // The unit suite type-checks with tsc; skip it in each of many runs here.
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
  }

  /** A fresh stack with its own state backend in a temporary directory. */
  static async create(name: string): Promise<TestStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `conductor-e2e-${name}-`));
    fs.mkdirSync(path.join(dir, "state"));
    const stack = new TestStack(name, dir);
    if (fs.existsSync(path.join(PROJECT_ROOT, `Pulumi.${name}.yaml`))) {
      throw new Error(`Pulumi.${name}.yaml exists in the project: choose another test stack name`);
    }
    await stack.pulumiOk(["stack", "init"]);
    // `stack init` writes the passphrase salt to Pulumi.<stack>.yaml in the
    // project; move it into this stack's own config file.
    const written = path.join(PROJECT_ROOT, `Pulumi.${name}.yaml`);
    if (fs.existsSync(written)) {
      fs.writeFileSync(stack.configFile, fs.readFileSync(written));
      fs.rmSync(written);
    }
    return stack;
  }

  private readonly secrets = new Map<string, string>();

  /**
   * Replaces the stack's whole config (the `config:` map of a stack file; JSON
   * is YAML), then sets again, encrypted, the secrets given to setSecret.
   */
  async writeConfig(config: Record<string, unknown>): Promise<void> {
    const previous = fs.existsSync(this.configFile) ? fs.readFileSync(this.configFile, "utf8") : "";
    const salt = previous.match(/^encryptionsalt: .*$/m)?.[0];
    fs.writeFileSync(
      this.configFile,
      `${salt ? `${salt}\n` : ""}config: ${JSON.stringify(config)}\n`,
    );
    for (const [key, value] of this.secrets) await this.configSetSecret(key, value);
  }

  /** A secret config value (`pulumi config set --secret [--path]`), kept across writeConfig. */
  async setSecret(key: string, value: string): Promise<void> {
    this.secrets.set(key, value);
    await this.configSetSecret(key, value);
  }

  private async configSetSecret(key: string, value: string): Promise<void> {
    const args = ["config", "set", "--secret", ...(key.includes(".") ? ["--path"] : []), key];
    // The value goes on stdin, so it is never on a command line.
    const result = await run(
      "pulumi",
      [...args, "--stack", this.name, "--config-file", this.configFile, "--non-interactive"],
      {
        cwd: PROJECT_ROOT,
        env: this.env,
        input: value,
      },
    );
    if (result.code !== 0) throw new Error(`pulumi config set ${key} failed:\n${result.output}`);
  }

  pulumi(args: string[]): Promise<RunResult> {
    // Commands that do not read config refuse --config-file.
    const configArgs = ["stack", "cancel"].includes(args[0])
      ? []
      : ["--config-file", this.configFile];
    return run("pulumi", [...args, "--stack", this.name, ...configArgs, "--non-interactive"], {
      cwd: PROJECT_ROOT,
      env: this.env,
    });
  }

  async pulumiOk(args: string[]): Promise<RunResult> {
    const result = await this.pulumi(args);
    if (result.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} failed (${result.code}):\n${result.output}`);
    return result;
  }

  up(): Promise<RunResult> {
    return this.pulumi(["up", "--yes", "--skip-preview"]);
  }

  async upOk(): Promise<RunResult> {
    return this.pulumiOk(["up", "--yes", "--skip-preview"]);
  }

  /**
   * Starts `pulumi up` and kills its process group with SIGKILL after
   * `afterMs`: the deploy interrupted the hard way. The CLI starts its plugins
   * (language host, provider) in groups of their own, so they and what they
   * started outlive it, as they would after a cancelled CI job. Resolves to
   * what it printed before it died and the processes below it at the kill.
   */
  async upKilledAfter(afterMs: number): Promise<{ output: string; below: ProcessSeen[] }> {
    const up = this.startUp();
    await new Promise((r) => setTimeout(r, afterMs));
    const below = up.pid ? processesBelow(up.pid) : [];
    up.signal("SIGKILL");
    return { output: (await up.exited).output, below };
  }

  /**
   * Starts `pulumi up` and sends it one SIGINT, as one Ctrl-C in a terminal
   * does (to its process group; the CLI starts its plugins in groups of their
   * own): `when` ms after the start, or when its output first matches `when`.
   * Resolves once it has exited by itself, or rejects after `timeoutMs`
   * (killing it then).
   */
  async upInterrupted(
    when: number | RegExp,
    timeoutMs = 120_000,
  ): Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    output: string;
    interrupted: boolean;
  }> {
    const up = this.startUp();
    let interrupted = false;
    const interrupt = () => {
      if (!interrupted) interrupted = up.signal("SIGINT");
    };
    const watch =
      typeof when === "number"
        ? setTimeout(interrupt, when)
        : setInterval(() => when.test(up.output()) && interrupt(), 20);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">(
      (r) => (timer = setTimeout(() => r("timeout"), timeoutMs)),
    );
    const result = await Promise.race([up.exited, timeout]);
    // Cleared, or Jest waits for it after the last test ("did not exit one second after").
    clearTimeout(timer);
    clearTimeout(watch);
    clearInterval(watch);
    if (result === "timeout") {
      up.signal("SIGKILL");
      const { output } = await up.exited;
      throw new Error(`pulumi up did not exit ${timeoutMs} ms after one SIGINT:\n${output}`);
    }
    return { ...result, interrupted };
  }

  /** `pulumi up` in a process group of its own, to signal it as a terminal would. */
  private startUp() {
    const args = [
      "up",
      "--yes",
      "--skip-preview",
      "--stack",
      this.name,
      "--config-file",
      this.configFile,
      "--non-interactive",
    ];
    const child = spawn("pulumi", args, {
      cwd: PROJECT_ROOT,
      env: this.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    const exited = new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      output: string;
    }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, output })));
    /** False when it had finished already. */
    const signal = (name: NodeJS.Signals): boolean => {
      try {
        process.kill(-child.pid!, name);
        return true;
      } catch {
        return false;
      }
    };
    return { exited, signal, output: () => output, pid: child.pid };
  }

  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.pulumiOk(["stack", "output", "--json"])).stdout) as Record<
      string,
      unknown
    >;
  }

  async destroy(): Promise<void> {
    await this.pulumiOk(["destroy", "--yes", "--skip-preview"]);
  }

  /** Destroys what is left (best effort) and removes the stack's directory. */
  async dispose(): Promise<void> {
    await this.pulumi(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Pulumi's local state backend in `dir`, without sidecar files: the file
 * backend truncates one before writing it again, and a kill at that instant
 * left the stack unreadable (scripts/lib.sh says the same for the dev stack).
 */
export function localBackendUrl(dir: string): string {
  return `file://${dir}?metadata=skip`;
}

export interface ProcessSeen {
  pid: number;
  /** Its command line, for a failure's message. */
  args: string;
  /** When it started (clock ticks since boot): tells it from a later process given the same pid. */
  startTicks: string;
}

/** Fields of /proc/<pid>/stat after the command's name: ppid is the second, starttime the 20th. */
function statFields(pid: string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Every process below `root` now: its children, theirs, and so on (from /proc). */
export function processesBelow(root: number): ProcessSeen[] {
  const stats = new Map<number, string[]>();
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    const fields = statFields(pid);
    if (fields) stats.set(Number(pid), fields);
  }
  const below = (pid: number): number[] =>
    [...stats]
      .filter(([, fields]) => Number(fields[1]) === pid)
      .flatMap(([child]) => [child, ...below(child)]);
  return below(root).flatMap((pid) => {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      return [{ pid, args, startTicks: stats.get(pid)![19] }];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** Those of `seen` still running (the same process: same pid, same start). */
export function stillRunning(seen: ProcessSeen[]): ProcessSeen[] {
  return seen.filter((p) => statFields(String(p.pid))?.[19] === p.startTicks);
}
