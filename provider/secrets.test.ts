import * as pulumi from "@pulumi/pulumi";
import { containsSecret, reveal, secret } from "./secrets";

describe("secret", () => {
  // If these drift from the SDK, the provider would treat secrets as plain objects.
  it("wraps a value the way the engine marks secrets", () => {
    expect(secret("hunter2")).toStrictEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: "hunter2",
    });
  });
});

describe("reveal and containsSecret", () => {
  const plainNested = { env: { A: "1", B: ["x", { c: 2 }] }, port: 22, none: null };

  it.each<[string, unknown, unknown]>([
    ["a string", secret("hunter2"), "hunter2"],
    ["an object", secret({ A: "1" }), { A: "1" }],
    ["a secret in an object", { env: { A: secret("1"), B: "2" } }, { env: { A: "1", B: "2" } }],
    ["secrets in an array", ["a", secret("b"), [secret("c")]], ["a", "b", ["c"]]],
    ["a secret in an array in an object", { argv: ["-p", secret("pw")] }, { argv: ["-p", "pw"] }],
    ["a secret around a secret", secret({ k: secret("v") }), { k: "v" }],
    ["a secret null", secret(null), null],
  ])("reveals %s and reports it secret", (_, wrapped, plain) => {
    expect(containsSecret(wrapped)).toBe(true);
    expect(reveal(wrapped)).toStrictEqual(plain);
    expect(containsSecret(reveal(wrapped))).toBe(false);
  });

  it.each<[string, unknown]>([
    ["a string", "hunter2"],
    ["a number", 22],
    ["null", null],
    ["undefined", undefined],
    ["nested objects and arrays", plainNested],
    ["an object with the signature key but another value", { [pulumi.runtime.specialSigKey]: "x" }],
  ])("leaves %s as it is, not secret", (_, value) => {
    expect(containsSecret(value)).toBe(false);
    expect(reveal(value)).toStrictEqual(value);
  });

  it("round-trips any plain value through secret", () => {
    expect(reveal(secret(plainNested))).toStrictEqual(plainNested);
  });

  it("copies rather than changes its argument", () => {
    const wrapped = { env: { A: secret("1") } };
    reveal(wrapped);
    expect(wrapped).toStrictEqual({ env: { A: secret("1") } });
  });
});
