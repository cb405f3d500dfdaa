import { formatPath, inConfigOrder, show } from "./issues";
import type { Path } from "./issues";

describe("formatPath", () => {
  it.each<[Path, string]>([
    [["stack"], "stack"],
    [["revision"], "conductor:revision"],
    [["services", "app", "http", "port"], "conductor:services.app.http.port"],
    [["services", "app", "hosts", 0], "conductor:services.app.hosts[0]"],
    // Pulumi's --path syntax quotes keys that are not plain, so the path can be pasted back.
    [["services", "app", "env", "a.b"], `conductor:services.app.env["a.b"]`],
    [["services", "app", "env", "a b"], `conductor:services.app.env["a b"]`],
  ])("%j -> %s", (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe("show", () => {
  it.each<[unknown, string, string]>([
    ["two", `"two"`, "[secret]"],
    [1.5, "1.5", "[secret]"],
    [false, "false", "[secret]"],
    [null, "null", "null"],
    [[], "[]", "[]"],
    [["a"], `["a"]`, "a list"],
    [{}, "{}", "{}"],
    [{ k: "v" }, `{"k":"v"}`, "an object"],
    ["a\0b", `"a\\u0000b"`, "[secret]"],
  ])("%j is %s, or %s under a secret key", (value, plain, secret) => {
    expect([show(value, false), show(value, true)]).toEqual([plain, secret]);
  });

  it("clips long values", () => {
    expect(show("x".repeat(200), false)).toBe(`"${"x".repeat(76)}...`);
  });
});

describe("inConfigOrder", () => {
  const tree = { stack: "s", app: undefined, services: { b: { y: 1, x: 2 }, a: {} } };

  it("follows the order keys are written in, parents first, missing keys last", () => {
    const issues = [
      { path: ["services", "a", "image"], message: "missing" },
      { path: ["services", "b", "x"], message: "x" },
      { path: ["services", "b"], message: "b" },
      { path: ["services", "b", "y"], message: "y" },
      { path: ["stack"], message: "stack" },
    ];
    expect(inConfigOrder(issues, tree).map((i) => i.message)).toEqual([
      "stack",
      "b",
      "y",
      "x",
      "missing",
    ]);
  });

  it("says the same thing at the same path once", () => {
    const twice = [1, 2].map(() => ({ path: ["stack"], message: "same" }));
    expect(inConfigOrder(twice, tree)).toEqual([{ path: ["stack"], message: "same" }]);
  });
});
