// Which stacks the policies are mandatory on, and how the pack learns the stack.
import { StackKind } from "./stack-kind";

describe("StackKind.level", () => {
  it.each([
    ["production", "mandatory"],
    ["prod", "mandatory"],
    ["prod-eu", "mandatory"],
    ["eu_production", "mandatory"],
    ["Production", "mandatory"],
    ["staging", "advisory"],
    ["dev", "advisory"],
    ["product-demo", "advisory"],
  ])("%s: %s", (stack, level) => {
    const kind = new StackKind();
    kind.stack = stack;
    expect(kind.level()).toBe(level);
  });

  it("is mandatory while the stack is unknown", () => {
    expect(new StackKind().level()).toBe("mandatory");
  });

  it("takes another pattern", () => {
    const kind = new StackKind("^live$");
    kind.stack = "live";
    expect(kind.level()).toBe("mandatory");
    kind.stack = "production";
    expect(kind.level()).toBe("advisory");
  });
});

describe("StackKind.watch", () => {
  // Stands for grpc-js's Server: @pulumi/policy adds the analyzer service to it once.
  class FakeServer {
    added: Record<string, (...args: unknown[]) => unknown> = {};
    addService(_service: unknown, implementation: Record<string, (...a: unknown[]) => unknown>) {
      this.added = implementation;
    }
  }

  it("reads the stack from configureStack and still runs the original", () => {
    const kind = new StackKind();
    kind.watch(FakeServer as never);
    const original = jest.fn();
    const analyze = jest.fn();
    const server = new FakeServer();
    server.addService({}, { configureStack: original, analyze });
    const call = { request: { getStack: () => "prod-eu" } };
    server.added.configureStack(call, "callback");
    expect(kind.stack).toBe("prod-eu");
    expect(original).toHaveBeenCalledWith(call, "callback");
    expect(server.added.analyze).toBe(analyze);
  });
});
