// The SDK's promises without stack traces (tooling/promise-stacks.ts): the
// same promises, tracked the same way, only their unread traces are gone, and
// every other error keeps its trace.
import * as fs from "node:fs";
import * as path from "node:path";
import { type DebuggableModule, skipPromiseStacks } from "./promise-stacks";

type Tracked = Promise<unknown> & { _debugStackTrace?: string; _debugCtx?: unknown };

/** A fresh copy of the SDK's module, read with PULUMI_DEBUG_PROMISE_LEAKS as given. */
function freshDebuggable(debugLeaks: string | undefined): DebuggableModule {
  const saved = process.env.PULUMI_DEBUG_PROMISE_LEAKS;
  if (debugLeaks === undefined) delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
  else process.env.PULUMI_DEBUG_PROMISE_LEAKS = debugLeaks;
  try {
    let module: DebuggableModule | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh, internal module
      module = require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule;
    });
    return module!;
  } finally {
    if (saved === undefined) delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
    else process.env.PULUMI_DEBUG_PROMISE_LEAKS = saved;
  }
}

describe("skipPromiseStacks", () => {
  it("tracks the SDK's promises with a trace of no frames, values and rejections unchanged", async () => {
    const debuggable = freshDebuggable(undefined);
    skipPromiseStacks(debuggable);
    const resolved = debuggable.debuggablePromise(Promise.resolve(42), "ctx") as Tracked;
    const failure = new Error("boom");
    const rejected = debuggable.debuggablePromise(Promise.reject(failure), "ctx2");
    await expect(resolved).resolves.toBe(42);
    await expect(rejected).rejects.toBe(failure);
    // The SDK's own wrapper returns a new promise; its trace sits on the one it was given.
    const given = Promise.resolve(1) as Tracked;
    await debuggable.debuggablePromise(given, "ctx3");
    expect(given._debugStackTrace).toMatch(/^Error:?\s*$/);
    expect(given._debugCtx).toBe("ctx3");
  });

  it("leaves every other error its trace, even when debuggablePromise throws", () => {
    const before = Error.stackTraceLimit;
    const debuggable = freshDebuggable(undefined);
    skipPromiseStacks(debuggable);
    debuggable.debuggablePromise(Promise.resolve(), "ctx");
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("x").stack).toMatch(/\n\s+at /);

    const throwing = {
      debugPromiseLeaks: false,
      debuggablePromise: () => {
        throw new Error("inner");
      },
    };
    skipPromiseStacks(throwing as unknown as DebuggableModule);
    expect(() => throwing.debuggablePromise()).toThrow("inner");
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("keeps the traces when PULUMI_DEBUG_PROMISE_LEAKS asks for them (the leak report prints them)", async () => {
    const debuggable = freshDebuggable("1");
    skipPromiseStacks(debuggable);
    const given = Promise.resolve(1) as Tracked;
    await debuggable.debuggablePromise(given, "ctx");
    expect(given._debugStackTrace).toMatch(/\n\s+at /);
  });

  it("wraps once however often it is called", () => {
    const debuggable = freshDebuggable(undefined);
    skipPromiseStacks(debuggable);
    const wrapped = debuggable.debuggablePromise;
    skipPromiseStacks(debuggable);
    expect(debuggable.debuggablePromise).toBe(wrapped);
  });

  it("is safe only while the SDK reads the traces nowhere but its leak report", () => {
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    const readers: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== "node_modules") walk(file);
        else if (entry.name.endsWith(".js")) {
          const source = fs.readFileSync(file, "utf8");
          for (const m of source.matchAll(/_debugStackTrace|promiseDebugString\(/g))
            readers.push(`${path.relative(sdk, file)}: ${m[0]}`);
        }
      }
    };
    walk(sdk);
    // Set in debuggablePromise, read in promiseDebugString, which only the
    // PULUMI_DEBUG_PROMISE_LEAKS branch of the leak report calls.
    expect(readers.sort()).toEqual([
      "runtime/debuggable.js: _debugStackTrace",
      "runtime/debuggable.js: _debugStackTrace",
      "runtime/debuggable.js: promiseDebugString(",
      "runtime/debuggable.js: promiseDebugString(",
    ]);
    const debuggable = fs.readFileSync(path.join(sdk, "runtime/debuggable.js"), "utf8");
    expect(debuggable).toMatch(
      /if \(exports\.debugPromiseLeaks\) \{\s*for \(const leak of leaked\) \{\s*console\.error\("Promise leak detected:"\);\s*console\.error\(promiseDebugString\(leak\)\);/,
    );
  });
});
