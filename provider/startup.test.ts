// What the provider loads as it starts, a cost paid by every deploy: beyond
// the SDK's provider server (provider/main.ts), only our own code and zod.
// The SDK root would add its closure serializer and TypeScript, about 0.4 s.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

const LIST_LOADED = `
require("@pulumi/pulumi/provider");
const before = new Set(Object.keys(require.cache));
require("./provider/provider.ts");
const added = Object.keys(require.cache).filter((m) => !before.has(m));
process.stdout.write(JSON.stringify(added.map((m) => require("path").relative(process.cwd(), m))));
`;

describe("the provider's start", () => {
  it("loads nothing of the SDK beyond its provider server, and no other package but zod", () => {
    const out = execFileSync(process.execPath, ["-r", "esbuild-register", "-e", LIST_LOADED], {
      cwd: ROOT,
    });
    const added = JSON.parse(out.toString("utf8")) as string[];
    expect(added).toContain(path.join("provider", "secrets.ts"));
    const packages = new Set(
      added.filter((m) => m.startsWith("node_modules")).map((m) => m.split(path.sep)[1]),
    );
    expect([...packages]).toEqual(["zod"]);
  });
});
