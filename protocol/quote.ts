/**
 * POSIX single-quoting: the one place any value is made safe for a shell.
 * Inside single quotes nothing is special, so the only character to handle is
 * the single quote itself, which becomes '\'' (close, escaped quote, reopen).
 */
export function shellQuote(word: string): string {
  if (word.includes("\0")) throw new Error("a NUL character cannot be passed through a shell");
  // Always quoted, even plain words: a bare `A=b` or `if` in command position
  // would be an assignment or a keyword, not a command.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Joins an argument vector into one shell command line, quoting every word. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
