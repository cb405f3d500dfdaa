// The Pulumi CLI built from toolchain/pulumi-cli and the Node SDK the program
// and provider run must be the same release. Lives in provider/ because jest's
// unit project does not look in toolchain/. Not proven: that go.sum and
// node_modules match these pins (go and npm check those themselves).
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

function envValue(text: string, name: string): string | undefined {
  return new RegExp(`^${name}=(\\S+)\\s*$`, "m").exec(text)?.[1];
}

/** The versions go.mod requires for `module`, in one-line and block form alike. */
function goRequires(goMod: string, module: string): string[] {
  const escaped = module.replace(/[.]/g, "\\.");
  const line = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "gm");
  return [...goMod.matchAll(line)].map((m) => m[1]);
}

const goMod = read("toolchain/pulumi-cli/go.mod");
const pulumiVersion = envValue(read("toolchain/versions.env"), "PULUMI_VERSION");

describe("the Pulumi toolchain pins", () => {
  it("name a PULUMI_VERSION", () => {
    expect(pulumiVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("lock the Node SDK at PULUMI_VERSION", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { version?: string }>;
    };
    expect(lock.packages["node_modules/@pulumi/pulumi"]?.version).toBe(pulumiVersion);
  });

  it("depend on the Node SDK at exactly PULUMI_VERSION", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(pulumiVersion);
  });

  it.each(["github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/sdk/v3"])(
    "build the CLI with %s at PULUMI_VERSION",
    (module) => {
      expect(goRequires(goMod, module)).toEqual([`v${pulumiVersion}`]);
    },
  );

  it("do not replace the Pulumi Go modules", () => {
    expect(goMod).not.toMatch(/^\s*(?:replace\s+)?github\.com\/pulumi\/pulumi\/\S+.*=>/m);
  });
});
