// The comment bodies are shaped like pulumi/actions v6's (src/libs/pr.ts).
// Not proven here: that GitHub's API answers as the fake server below does.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  type Comment,
  END,
  isPreviewComment,
  main,
  pickComment,
  START,
  withSummary,
} from "./pr-comment";

function actionBody(stackLine: string, output = "Previewing update (staging):\n ~ 3 to update") {
  return [
    `#### :tropical_drink: \`preview\` on ${stackLine}`,
    "",
    "<details>",
    "<summary>Pulumi report</summary>",
    "",
    "",
    "<pre>",
    output,
    "</pre>",
    "",
    "</details>",
  ].join("\n");
}

const SUMMARY = "#### Deploy summary: `staging`\n\n| service | host |\n";

describe("withSummary", () => {
  test("puts the summary under the action's heading, above the raw preview", () => {
    expect(withSummary(actionBody("conductor/staging"), SUMMARY)).toBe(
      [
        "#### :tropical_drink: `preview` on conductor/staging",
        "",
        START,
        "#### Deploy summary: `staging`",
        "",
        "| service | host |",
        END,
        "",
        "<details>",
        "<summary>Pulumi report</summary>",
        "",
        "",
        "<pre>",
        "Previewing update (staging):\n ~ 3 to update",
        "</pre>",
        "",
        "</details>",
      ].join("\n"),
    );
  });

  test("the action still recognizes the comment as its own, so it keeps editing one comment", () => {
    expect(isPreviewComment(withSummary(actionBody("conductor/staging"), SUMMARY), "staging")).toBe(
      true,
    );
  });

  test("a second run replaces the summary instead of stacking another", () => {
    const once = withSummary(actionBody("conductor/staging"), SUMMARY);
    const twice = withSummary(once, "#### Deploy summary: `staging`\n\nNo changes.\n");
    expect(twice.split(START)).toHaveLength(2);
    expect(twice).toContain("No changes.");
    expect(twice).not.toContain("| service | host |");
  });
});

describe("pickComment", () => {
  const comment = (id: number, body: string, updated_at: string): Comment => ({
    id,
    body,
    updated_at,
  });

  test.each([
    ["project/stack", "conductor/staging", true],
    ["org-qualified stack", "conductor/acme/staging", true],
    ["another stack", "conductor/production", false],
    ["a stack whose name ends the same", "conductor/pre-staging", false],
  ])("heading with %s", (_what, stackLine, expected) => {
    expect(isPreviewComment(actionBody(stackLine), "staging")).toBe(expected);
  });

  test("not a preview report: a person quoting the heading", () => {
    expect(
      isPreviewComment(
        "#### :tropical_drink: `preview` on conductor/staging\nlooks good",
        "staging",
      ),
    ).toBe(false);
  });

  test("the most recently updated of the action's comments for the stack", () => {
    const comments = [
      comment(1, actionBody("conductor/staging"), "2026-01-01T10:00:00Z"),
      comment(2, actionBody("conductor/production"), "2026-01-01T12:00:00Z"),
      comment(3, actionBody("conductor/staging"), "2026-01-01T11:00:00Z"),
      comment(4, "LGTM", "2026-01-01T13:00:00Z"),
    ];
    expect(pickComment(comments, "staging")?.id).toBe(3);
    expect(pickComment(comments, "dev")).toBeUndefined();
  });
});

describe("pr-comment command against a fake GitHub API", () => {
  let server: http.Server;
  let api: string;
  const patches: { url: string; body: string }[] = [];
  // 100 comments on page 1, the action's on page 2: paging must go on.
  const pages: Comment[][] = [
    Array.from({ length: 100 }, (_, i) => ({
      id: i,
      body: "hi",
      updated_at: "2026-01-01T00:00:00Z",
    })),
    [{ id: 500, body: actionBody("conductor/staging"), updated_at: "2026-01-02T00:00:00Z" }],
  ];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (req.headers.authorization !== "Bearer t0ken") return res.writeHead(401).end("{}");
        const page = /issues\/7\/comments\?per_page=100&page=(\d)/.exec(req.url ?? "");
        if (req.method === "GET" && page)
          return res.end(JSON.stringify(pages[Number(page[1]) - 1] ?? []));
        if (req.method === "PATCH") {
          patches.push({ url: req.url ?? "", body });
          return res.end("{}");
        }
        res.writeHead(404).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  test("finds the action's comment past the first page and patches the summary in", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
    const summaryFile = path.join(dir, "summary.md");
    fs.writeFileSync(summaryFile, SUMMARY);
    const env = {
      GITHUB_TOKEN: "t0ken",
      GITHUB_REPOSITORY: "acme/conductor",
      PR_NUMBER: "7",
      GITHUB_API_URL: api,
    };
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["staging", summaryFile], env)).toBe(0);
    } finally {
      write.mockRestore();
      fs.rmSync(dir, { recursive: true });
    }
    expect(patches).toEqual([
      {
        url: "/repos/acme/conductor/issues/comments/500",
        body: JSON.stringify({ body: withSummary(actionBody("conductor/staging"), SUMMARY) }),
      },
    ]);
  });

  test("fails, naming what is missing, without the environment it needs", async () => {
    const write = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["staging", "summary.md"], {})).toBe(1);
      expect(write).toHaveBeenCalledWith(
        "pr-comment: missing environment: GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER\n",
      );
    } finally {
      write.mockRestore();
    }
  });
});
