// shellQuote/shellJoin build the command line ssh hands to the remote shell.
// Checked against a real POSIX shell (dash as /bin/sh here, and bash). Not
// proven: other login shells such as zsh, whose `=word` expansion differs.
import { execFileSync, spawnSync } from "node:child_process";
import fc from "fast-check";
import { shellJoin, shellQuote } from "./quote";

const SHELLS = ["sh", "bash"].filter((sh) => spawnSync(sh, ["-c", "true"]).status === 0);
const RUNS = 200;

/** What `printf '%s' <quoted>` prints in `shell`: the word as the shell parsed it. */
function printedBy(shell: string, quoted: string): Buffer {
  return execFileSync(shell, ["-c", `printf '%s' ${quoted}`]);
}

/** The arguments a shell parses from `joined`, each printed NUL-terminated. */
function argvParsedBy(shell: string, joined: string): string[] {
  const out = execFileSync(shell, [
    "-c",
    `${shell} -c 'for a; do printf "%s\\0" "$a"; done' ${shell} ${joined}`,
  ]).toString("utf8");
  return out === "" ? [] : out.slice(0, -1).split("\0");
}

// Special characters are rare among random code points: mix them in on purpose.
const char = fc.oneof(
  fc.constantFrom(..."'\"$`\\;&|<>(){}[]*?~#!=% \t\n\r-"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const word = fc.string({ unit: char, maxLength: 24 }).filter((s) => !s.includes("\0"));

describe("shellQuote", () => {
  it.each([
    ["a plain path", "/usr/local/bin/conductor", "'/usr/local/bin/conductor'"],
    ["an option", "-rf", "'-rf'"],
    ["spaces", "hello world", "'hello world'"],
    ["a single quote", "it's", `'it'\\''s'`],
    ["only single quotes", "''", `''\\'''\\'''`],
    ["double quotes", `say "hi"`, `'say "hi"'`],
    ["a variable", "$HOME", "'$HOME'"],
    ["backticks", "`id`", "'`id`'"],
    ["a command substitution", "$(id)", "'$(id)'"],
    ["a semicolon", "a;b", "'a;b'"],
    ["&&", "a && b", "'a && b'"],
    ["a newline", "line1\nline2", "'line1\nline2'"],
    ["a backslash", "a\\b", "'a\\b'"],
    ["a glob", "*", "'*'"],
    ["a tilde", "~root", "'~root'"],
    ["non-ASCII", "héllo wörld ✓", "'héllo wörld ✓'"],
    ["the empty string", "", "''"],
  ])("quotes %s", (_, word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
    for (const shell of SHELLS) expect(printedBy(shell, quoted).toString("utf8")).toBe(word);
  });

  it("refuses a NUL, which no shell argument can hold", () => {
    expect(() => shellQuote("a\0b")).toThrow("a NUL character cannot be passed through a shell");
    expect(() => shellJoin(["ok", "\0"])).toThrow("NUL");
  });

  it.each(SHELLS)("gives back the exact bytes of any word without NUL through %s", (shell) => {
    fc.assert(
      fc.property(word, (w) => {
        expect(printedBy(shell, shellQuote(w))).toEqual(Buffer.from(w, "utf8"));
      }),
      { numRuns: RUNS },
    );
  });
});

describe("shellJoin", () => {
  it("quotes each word and joins them with spaces", () => {
    expect(shellJoin(["/usr/local/bin/conductor", "container", "up", "", "a b"])).toBe(
      "'/usr/local/bin/conductor' 'container' 'up' '' 'a b'",
    );
  });

  it.each(SHELLS)("gives back the exact argument vector through %s", (shell) => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (argv) => {
        expect(argvParsedBy(shell, shellJoin(argv))).toEqual(argv);
      }),
      { numRuns: RUNS },
    );
  });

  // The first word of a command line is special to the shell: unquoted, `A=b`
  // there is an assignment and `if` a reserved word, so the command named by
  // argv[0] would never run. `sh -c <line>` must fail with "not found" (127).
  it.each(["A=b", "if"])("runs argv[0] %s as a command", (first) => {
    const status = spawnSync("sh", ["-c", shellJoin([first])]).status;
    expect(status).toBe(127);
  });
});
