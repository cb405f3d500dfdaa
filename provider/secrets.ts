// The engine hands providers secret values wrapped in a signature object (we
// accept secrets in Configure). These helpers unwrap them for use and tell
// whether anything was secret.
//
// The signature constants come from the SDK module that defines them. It adds
// nothing to the provider's start: the SDK's provider server (provider/main.ts)
// loads that module already.
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return (
    !!value &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

/**
 * A deep copy with every secret replaced by its plaintext. Of unknown shape:
 * read it through a schema (see resources/read.ts).
 */
export function reveal(value: unknown): unknown {
  if (isSecretWrapper(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map((v) => reveal(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

export function containsSecret(value: unknown): boolean {
  if (isSecretWrapper(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

/** Wraps a value as a secret, the way the engine sends secret inputs. */
export function secret(value: unknown): unknown {
  return { [specialSigKey]: specialSecretSig, value };
}
