// Which stacks the policies are mandatory on: those named like production,
// advisory on the others. A policy's level is read when the engine asks for the
// pack's info (GetAnalyzerInfo), and the engine sends it back with the pack's
// config; the engine named the stack just before, in ConfigureStack
// (pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
// NewPolicyAnalyzer, then engine/update.go). @pulumi/policy 1.21 keeps only the
// stack's tags of that call, so watch() reads the stack's name from it on the
// way in. Nothing else gives a Node.js pack the stack's name before its
// policies run: no environment variable when the CLI starts the pack through a
// language host, and no stack in the policy's arguments but its resources' URNs.
import type { EnforcementLevel } from "@pulumi/policy";

/** production, prod, prod-eu, eu-production, ... but not "product" or "staging". */
export const PRODUCTION_STACKS = "(^|[^a-z])prod(uction)?([^a-z]|$)";

export class StackKind {
  stack?: string;

  constructor(
    /** A regular expression, matched ignoring case: CONDUCTOR_PRODUCTION_STACKS. */
    readonly pattern: string = PRODUCTION_STACKS,
  ) {}

  /** Mandatory while the stack is unknown: a pack that cannot tell errs on the strict side. */
  level(): EnforcementLevel {
    if (this.stack === undefined) return "mandatory";
    return new RegExp(this.pattern, "i").test(this.stack) ? "mandatory" : "advisory";
  }

  /**
   * Wraps the analyzer service's configureStack (grpc-js Server.addService, which
   * @pulumi/policy calls once) to read the stack's name, then lets it run as before.
   */
  watch(server: { prototype: { addService: AddService } }): void {
    const addService = server.prototype.addService;
    const observe = (stack: string) => (this.stack = stack);
    server.prototype.addService = function (service, implementation) {
      const configureStack = implementation.configureStack;
      if (typeof configureStack === "function") {
        implementation = {
          ...implementation,
          configureStack(call: unknown, callback: unknown) {
            observe((call as StackCall).request.getStack());
            return configureStack.call(this, call, callback);
          },
        };
      }
      return addService.call(this, service, implementation);
    };
  }
}

type Handler = (this: unknown, ...args: unknown[]) => unknown;
type AddService = (
  this: unknown,
  service: unknown,
  implementation: Record<string, Handler>,
) => void;
type StackCall = { request: { getStack(): string } };
