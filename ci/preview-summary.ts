// The deploy summary of a stack's preview, in Markdown, for its pull-request comment:
//   pulumi preview -s staging --json --show-sames > preview.json
//   node -r esbuild-register ci/preview-summary.ts preview.json      (or the JSON on stdin)
// Env values are never printed, only their keys.
import * as fs from "node:fs";
import { DigestError, parseDigest } from "./summary/digest";
import { renderMarkdown } from "./summary/markdown";
import { summarize } from "./summary/model";

const USAGE = "usage: preview-summary [PREVIEW_JSON_FILE | -]   (default: stdin)";

export function previewSummary(previewJson: string): string {
  return renderMarkdown(summarize(parseDigest(previewJson)));
}

export interface Io {
  readFile(path: string | 0): string;
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  readFile: (path) => fs.readFileSync(path, "utf8"),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Returns the exit code: 0, 1 for a preview it cannot read, 2 for bad arguments. */
export function main(argv: string[], io: Io = processIo): number {
  if (argv.length > 1 || argv[0] === "-h" || argv[0] === "--help") {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const file = argv[0] === undefined || argv[0] === "-" ? 0 : argv[0];
  try {
    io.out(previewSummary(io.readFile(file)));
    return 0;
  } catch (e) {
    if (process.env.DEBUG) io.err(`${(e as Error).stack}\n`);
    const what = e instanceof DigestError ? "cannot summarize this preview" : "failed";
    io.err(`preview-summary: ${what}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
