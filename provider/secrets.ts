// The engine hands providers secret values wrapped in a signature object (we
// accept secrets in Configure). These helpers unwrap them for use and tell
// whether anything was secret.

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return (
    !!value &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** A deep copy with every secret replaced by its plaintext. */
export function reveal<T = unknown>(value: unknown): T {
  if (isSecretWrapper(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map((v) => reveal(v)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)])) as T;
  }
  return value as T;
}

export function containsSecret(value: unknown): boolean {
  if (isSecretWrapper(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

/** Wraps a value as a secret, for outputs derived from secret inputs. */
export function secret(value: unknown): unknown {
  return { [SIG_KEY]: SECRET_SIG, value };
}
