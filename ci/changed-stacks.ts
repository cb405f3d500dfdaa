// Which stacks a pull request previews, as a JSON list for a job matrix:
//   git diff --name-only BASE...HEAD | node -r esbuild-register ci/changed-stacks.ts staging production
//   ["staging"]
// A stack's own Pulumi.<stack>.yaml previews that stack; any other file that
// can change a deploy previews them all. Only files known to be inert (docs,
// tests, recordings) preview nothing: a new folder errs on the side of a preview.
import * as fs from "node:fs";

const INERT = [/\.md$/i, /^test\//, /\.test\.ts$/, /\.testutil\.ts$/, /^ci\/golden\//];
const STACK_CONFIG = /^Pulumi\.([^/]+)\.yaml$/;

export function stacksToPreview(files: string[], stacks: string[]): string[] {
  const wanted = new Set<string>();
  for (const file of files) {
    const config = STACK_CONFIG.exec(file);
    if (config) {
      // Another stack's config (dev's, say) changes nothing here.
      if (stacks.includes(config[1])) wanted.add(config[1]);
    } else if (!INERT.some((pattern) => pattern.test(file))) {
      return [...stacks];
    }
  }
  return stacks.filter((s) => wanted.has(s));
}

export function main(argv: string[], stdin: string, out: (text: string) => void): number {
  if (argv.length === 0) {
    out("usage: git diff --name-only BASE...HEAD | changed-stacks STACK...\n");
    return 2;
  }
  const files = stdin.split("\n").filter((line) => line !== "");
  out(`${JSON.stringify(stacksToPreview(files, argv))}\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), fs.readFileSync(0, "utf8"), (t) =>
    process.stdout.write(t),
  );
}
