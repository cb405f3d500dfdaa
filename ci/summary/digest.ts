// The parts of `pulumi preview --json` (the CLI's PreviewDigest) that the
// deploy summary reads, checked once on the way in, and the markers Pulumi
// puts in place of values it will not or cannot show.

export type Inputs = Record<string, unknown>;

export interface ResourceState {
  urn: string;
  type: string;
  parent?: string;
  inputs?: Inputs;
}

export interface Step {
  op: string;
  urn: string;
  oldState?: ResourceState;
  newState?: ResourceState;
  /** Inputs whose change replaces the resource (the provider's diff). */
  replaceReasons?: string[];
  /** Inputs that changed, when the provider says which. */
  diffReasons?: string[];
  detailedDiff?: Record<string, unknown> | null;
}

export interface Diagnostic {
  severity: string;
  message: string;
}

export interface Digest {
  steps: Step[];
  changeSummary: Record<string, number>;
  diagnostics: Diagnostic[];
}

export class DigestError extends Error {}

/** Secrets in preview JSON: "[secret]" (display) or a serialized secret (state, ciphertext). */
const SECRET_MARKER = "[secret]";
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** An output not known until the deploy runs (a new container's name, say). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isSecret(value: unknown): boolean {
  return value === SECRET_MARKER || (isRecord(value) && value[SECRET_SIG_KEY] === SECRET_SIG);
}

/** Whether the value cannot be read here: a secret, or unknown during preview. */
export function isHidden(value: unknown): boolean {
  return isSecret(value) || value === UNKNOWN;
}

/** `urn:pulumi:<stack>::<project>::<type chain>::<name>` -> name. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

export function urnStack(urn: string): string {
  const prefix = "urn:pulumi:";
  return urn.startsWith(prefix) ? urn.slice(prefix.length, urn.indexOf("::")) : "";
}

/**
 * The preview as JSON text -> its digest. Pulumi leaves unchanged resources
 * out unless asked (`--show-sames`), and without them the summary would count
 * only the containers that change, so such a preview is refused.
 */
export function parseDigest(text: string): Digest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DigestError(`not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(json) || !Array.isArray(json.steps)) {
    throw new DigestError("not the output of `pulumi preview --json`: it has no steps");
  }
  const steps = json.steps.map(checkStep);
  const changeSummary = isRecord(json.changeSummary)
    ? (json.changeSummary as Record<string, number>)
    : {};
  const shownSames = steps.filter((s) => s.op === "same").length;
  if ((changeSummary.same ?? 0) > shownSames) {
    throw new DigestError(
      `this preview leaves out its ${changeSummary.same} unchanged resources, so replica counts ` +
        "would be wrong: run `pulumi preview --json --show-sames`",
    );
  }
  const diagnostics = Array.isArray(json.diagnostics) ? (json.diagnostics as Diagnostic[]) : [];
  return { steps, changeSummary, diagnostics };
}

function checkStep(step: unknown, index: number): Step {
  if (!isRecord(step) || typeof step.op !== "string" || typeof step.urn !== "string") {
    throw new DigestError(`steps[${index}]: expected an object with "op" and "urn"`);
  }
  return step as unknown as Step;
}
