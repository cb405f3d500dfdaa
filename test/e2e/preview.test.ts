// `pulumi preview` reaches no host and no registry: an operator previews a
// production stack from a laptop that cannot connect to it. The hosts here
// refuse every connection (127.0.0.1 port 1) and the registry's name does not
// resolve (.invalid), so a preview that tried either would fail.
import { TestStack } from "./harness";

const REGISTRY = "registry.invalid:5000";
const PASSWORD = "preview-registry-password-9f3c";

describe("preview", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create("preview");
    await stack.writeConfig({
      "conductor:app": "pv",
      "conductor:revision": "9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c9f3c",
      "conductor:hosts": {
        "app-1": { address: "127.0.0.1", port: 1, user: "deploy" },
        "app-2": { address: "127.0.0.1", port: 1, user: "deploy" },
      },
      "conductor:registries": { [REGISTRY]: { username: "deploy" } },
      "conductor:services": {
        web: {
          image: `${REGISTRY}/acme/app`,
          hosts: ["app-1", "app-2"],
          replicas: 2,
          http: { port: 3000, nginx: { listen: 80 } },
        },
        jobs: {
          image: `${REGISTRY}/acme/app`,
          hosts: ["app-1"],
          replicas: 0,
          cron: { generate: ["bin/generate-cron"] },
        },
      },
    });
    await stack.setSecret(`conductor:registries["${REGISTRY}"].password`, PASSWORD);
  });

  afterAll(() => stack?.dispose());

  it("plans every host's image, containers, nginx, cron and release without reaching a host or the registry", async () => {
    const result = await stack.pulumiOk(["preview", "--diff"]);
    expect(result.output).toContain("fleet:index:Image: (create)");
    for (const host of ["app-1", "app-2"]) {
      expect(result.output).toContain(`web-${host}-image`);
      expect(result.output).toContain(`web-${host}-release`);
    }
    expect(result.output).toMatch(/jobs-app-1-cron/);
    expect(result.output).not.toContain(PASSWORD);
    expect(result.output).not.toMatch(/cannot connect|cannot pull|error:/);
  });

  // tooling/warm-up.js writes its gRPC request by hand, before the SDK loads:
  // the real engine must take it and have the provider answer it.
  it("has the engine start the provider at the program's warm-up call", async () => {
    const result = await stack.pulumiOk(["preview", "-v=7", "--logtostderr"]);
    expect(result.stderr).toMatch(/Provider\[[^\]]+\]\.Invoke\(fleet:index:warmUp\) success/);
  });

  // tooling/sdk-debug-log.ts: the SDK's debug messages (several per resource)
  // are not even sent, unless the operator asks for them.
  it("shows the SDK's debug messages under --debug only with CONDUCTOR_SDK_DEBUG set", async () => {
    const registering = /Registering resource: t=fleet:index:Image/;
    const plain = await stack.pulumiOk(["preview", "--debug"]);
    expect(plain.output).not.toMatch(registering);
    stack.env.CONDUCTOR_SDK_DEBUG = "1";
    try {
      const asked = await stack.pulumiOk(["preview", "--debug"]);
      expect(asked.output).toMatch(registering);
    } finally {
      delete stack.env.CONDUCTOR_SDK_DEBUG;
    }
  });

  // The program stops at a bad config while the warm-up call may still be in
  // flight: the operator sees the config error, and nothing of the call.
  it("stops at a bad config with its path, and nothing else to read", async () => {
    const result = await stack.pulumi(["preview", "--config", "conductor:revision=not-a-sha"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("error: invalid conductor config (1 problem):");
    expect(result.output).toContain("conductor:revision: expected a git commit SHA of 7 to 40");
    expect(result.output).not.toMatch(/warmUp|Invoke|canceled|transport|grpc/i);
    expect(result.output).not.toMatch(/Error: |\bat .*\.js:\d+/); // no JavaScript error or stack
  });
});
