// Cases the recordings in ci/golden cannot show: resource types not built yet
// (cron files), ciphertext-style secrets, an updated host command, an unknown
// op. Steps are made by a small factory shaped like `pulumi preview --json`.
import type { Digest, Inputs, Step } from "./digest";
import { renderMarkdown } from "./markdown";
import { summarize } from "./model";

const urn = (typeChain: string, name: string) =>
  `urn:pulumi:prod::conductor::${typeChain}::${name}`;
const SERVICE_URN = urn("conductor:index:Service", "app");
const CIPHERTEXT = {
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  ciphertext: "v1:x",
};

interface StepSpec {
  before?: Inputs;
  after?: Inputs;
  replaceReasons?: string[];
}

function step(op: string, type: string, name: string, spec: StepSpec = {}): Step {
  const parent =
    type.startsWith("fleet:index:") && type !== "fleet:index:Agent" ? SERVICE_URN : undefined;
  const chain = parent ? `conductor:index:Service$${type}` : type;
  const state = (inputs?: Inputs) => inputs && { urn: urn(chain, name), type, parent, inputs };
  return {
    op,
    urn: urn(chain, name),
    oldState: state(spec.before),
    newState: state(spec.after),
    replaceReasons: spec.replaceReasons,
  };
}

function container(op: string, slot: number, spec: StepSpec): Step {
  const base = { serviceId: "acme_app_prod", slot, revision: "aaaaaaa", env: {} };
  return step(op, "fleet:index:Container", `app-app-1-${slot}`, {
    ...spec,
    before: spec.before && { ...base, ...spec.before },
    after: spec.after && { ...base, ...spec.after },
  });
}

function digest(steps: Step[], diagnostics: Digest["diagnostics"] = []): Digest {
  const root = step("same", "pulumi:pulumi:Stack", "conductor-prod", { before: {}, after: {} });
  const service = step("same", "conductor:index:Service", "app", { before: {}, after: {} });
  return { steps: [root, service, ...steps], changeSummary: {}, diagnostics };
}

const render = (steps: Step[]) => renderMarkdown(summarize(digest(steps)));

describe("files a service owns on a host", () => {
  test.each([
    ["create", "cron added"],
    ["update", "cron updated"],
    ["replace", "cron replaced"],
    ["delete", "cron removed"],
  ])("a future fleet:index:CronFile, %s", (op, words) => {
    const inputs = { serviceId: "acme_app_prod", connection: { host: "app-1" } };
    const cron = step(op, "fleet:index:CronFile", "app-app-1-cron", {
      before: inputs,
      after: inputs,
    });
    expect(summarize(digest([cron])).rows).toEqual([
      expect.objectContaining({
        service: "app",
        host: "app-1",
        files: [{ kind: words.split(" ")[0], effect: op }],
      }),
    ]);
    expect(render([cron])).toContain(`| app | app-1 | — | 0 |  | ${words} |`);
  });
});

describe("env: keys only, never values", () => {
  const VALUES = { DATABASE_URL: "postgres://u:hunter2@db/x", TOKEN: "tok-5f3a9c" };

  test("a plain env's keys added, changed and removed; no value is printed", () => {
    const before = { env: { ...VALUES, OLD: "old-value-1" } };
    const after = {
      env: { DATABASE_URL: "postgres://u:hunter3@db/x", TOKEN: VALUES.TOKEN, NEW: "new-value-1" },
    };
    const out = render([container("replace", 0, { before, after, replaceReasons: ["env"] })]);
    expect(out).toContain("| added `NEW`; changed `DATABASE_URL`; removed `OLD` |");
    for (const value of ["hunter2", "hunter3", "tok-5f3a9c", "old-value-1", "new-value-1"]) {
      expect(out).not.toContain(value);
    }
  });

  test.each([
    ["the display marker", "[secret]"],
    ["a ciphertext object", CIPHERTEXT],
  ])(
    "a secret env as %s: 'env (secret) changed' when the provider says env changed",
    (_, secret) => {
      const changed = container("replace", 0, {
        before: { env: secret },
        after: { env: secret },
        replaceReasons: ["env"],
      });
      const revisionOnly = container("replace", 0, {
        before: { env: secret },
        after: { env: secret, revision: "bbbbbbb" },
        replaceReasons: ["revision"],
      });
      expect(summarize(digest([changed])).rows[0].env).toEqual({ kind: "secret", changed: true });
      expect(summarize(digest([revisionOnly])).rows[0].env).toEqual({ kind: "same" });
    },
  );

  test("one secret value among plain ones: its change is reported without its key", () => {
    const c = container("replace", 0, {
      before: { env: { A: "1", B: "[secret]" } },
      after: { env: { A: "1", B: "[secret]" } },
      replaceReasons: ["env"],
    });
    expect(summarize(digest([c])).rows[0].env).toEqual({ kind: "secret", changed: true });
  });

  test("a new host of a service with a secret env gets it, keys unseen", () => {
    const c = container("create", 0, { after: { env: "[secret]" } });
    expect(render([c])).toContain("| app | app-1 | — → `aaaaaaa` | 0 → 1 | env (secret) |  |");
  });
});

describe("rows", () => {
  test("a container replaced for its command: the reason is shown, revision unchanged", () => {
    const c = container("replace", 0, {
      before: { command: ["a"] },
      after: { command: ["b"] },
      replaceReasons: ["command"],
    });
    expect(render([c])).toContain("| app | app-1 | `aaaaaaa` | 1 |  |  | `command` |");
  });

  test("the host comes from the name when the connection is secret", () => {
    const c = container("create", 0, { after: { connection: "[secret]" } });
    expect(summarize(digest([c])).rows[0].host).toBe("app-1");
  });

  test("unchanged service and host pairs get no row", () => {
    const c = container("same", 0, { before: {}, after: {} });
    expect(summarize(digest([c])).rows).toEqual([]);
  });
});

describe("hosts and other resources", () => {
  test("an updated host command and a changed connection are noted per host", () => {
    const agent = step("update", "fleet:index:Agent", "app-1", {
      before: { bundleSha256: "a", connection: { host: "app-1", address: "10.0.0.1" } },
      after: { bundleSha256: "b", connection: { host: "app-1", address: "10.0.0.2" } },
    });
    expect(render([agent])).toContain(
      "- Host `app-1`: the `conductor` host command is updated.\n" +
        "- Host `app-1`: how it is reached changes (no restart).",
    );
  });

  test("a changed resource of another type is listed as such", () => {
    const other = step("update", "aws:s3:Bucket", "logs", { before: {}, after: {} });
    expect(render([other])).toContain("- `aws:s3:Bucket` `logs` updated.");
  });

  test("a failed preview says so instead of summarizing what it got to", () => {
    const failed = digest([], [{ severity: "error", message: "invalid conductor config" }]);
    expect(renderMarkdown(summarize(failed))).toBe(
      "#### Deploy summary: `prod`\n\n**The preview failed** (1 error): see the raw preview below.\n",
    );
  });

  test("an op this summary does not know is an error, not a silent gap", () => {
    expect(() =>
      summarize(digest([step("teleport", "fleet:index:Container", "app-app-1-0")])),
    ).toThrow('unknown step op "teleport"');
  });
});
