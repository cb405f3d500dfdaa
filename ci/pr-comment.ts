// Puts a stack's deploy summary at the top of the preview comment that
// pulumi/actions posts on the pull request:
//   GITHUB_TOKEN=... GITHUB_REPOSITORY=owner/repo PR_NUMBER=12 \
//     node -r esbuild-register ci/pr-comment.ts STACK SUMMARY_FILE
// The action finds its comment again by the heading the body starts with (and
// its "<summary>Pulumi report</summary>"), and rewrites the whole body on each
// push. So the summary goes right under that heading, where the action still
// finds its comment, and this runs after the action every time.
import * as fs from "node:fs";

export const START = "<!-- conductor:deploy-summary -->";
export const END = "<!-- /conductor:deploy-summary -->";
/** pulumi/actions v6: "#### :tropical_drink: `preview` on <project>/<stack>". */
const HEADING = /^#### :tropical_drink: `preview` on (\S+)$/;
const REPORT = "<summary>Pulumi report</summary>";

export interface Comment {
  id: number;
  body: string;
  updated_at: string;
}

export function isPreviewComment(body: string, stack: string): boolean {
  const heading = HEADING.exec(body.split("\n", 1)[0].trim());
  if (!heading || !body.includes(REPORT)) return false;
  return heading[1] === stack || heading[1].endsWith(`/${stack}`);
}

/** The body with `summary` under its first line, replacing a summary put there before. */
export function withSummary(body: string, summary: string): string {
  let rest = body;
  const start = rest.indexOf(START);
  const end = rest.indexOf(END);
  if (start >= 0 && end > start) rest = rest.slice(0, start) + rest.slice(end + END.length);
  const newline = rest.indexOf("\n");
  const heading = newline < 0 ? rest : rest.slice(0, newline);
  const after = newline < 0 ? "" : rest.slice(newline + 1).replace(/^\s*\n/, "");
  return `${heading}\n\n${START}\n${summary.trim()}\n${END}\n\n${after}`;
}

/**
 * The action's comment for this stack. It lists only the first page of
 * comments, so on a long pull request it may post anew: the latest is its own.
 */
export function pickComment(comments: Comment[], stack: string): Comment | undefined {
  return comments
    .filter((c) => isPreviewComment(c.body, stack))
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at))[0];
}

interface Env {
  token: string;
  repo: string;
  pr: string;
  api: string;
}

function envOf(env: NodeJS.ProcessEnv): Env {
  const missing = ["GITHUB_TOKEN", "GITHUB_REPOSITORY", "PR_NUMBER"].filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`missing environment: ${missing.join(", ")}`);
  return {
    token: env.GITHUB_TOKEN!,
    repo: env.GITHUB_REPOSITORY!,
    pr: env.PR_NUMBER!,
    api: env.GITHUB_API_URL || "https://api.github.com",
  };
}

async function request<T>(env: Env, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${env.api}${path}`, {
    method,
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${env.token}`,
      "content-type": "application/json",
      "x-github-api-version": "2022-11-28",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

async function listComments(env: Env): Promise<Comment[]> {
  const all: Comment[] = [];
  for (let page = 1; ; page++) {
    const path = `/repos/${env.repo}/issues/${env.pr}/comments?per_page=100&page=${page}`;
    const comments = await request<Comment[]>(env, "GET", path);
    all.push(...comments);
    if (comments.length < 100) return all;
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.length !== 2) {
    process.stderr.write("usage: pr-comment STACK SUMMARY_FILE\n");
    return 2;
  }
  const [stack, summaryFile] = argv;
  try {
    const github = envOf(env);
    const summary = fs.readFileSync(summaryFile, "utf8");
    const comment = pickComment(await listComments(github), stack);
    if (!comment) throw new Error(`no preview comment of pulumi/actions for ${stack} on the PR`);
    const path = `/repos/${github.repo}/issues/comments/${comment.id}`;
    await request(github, "PATCH", path, { body: withSummary(comment.body, summary) });
    process.stdout.write(`pr-comment: summary of ${stack} added to comment ${comment.id}\n`);
    return 0;
  } catch (e) {
    if (env.DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.stderr.write(`pr-comment: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => (process.exitCode = code));
}
