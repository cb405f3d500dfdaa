// The SDK's debug messages are dropped unless the operator asks for them
// (tooling/sdk-debug-log.ts); test/e2e/preview.test.ts checks the real CLI.
import { SDK_DEBUG_VARIABLE, type LogModule, skipSdkDebugLog } from "./sdk-debug-log";

function fakeLog() {
  const sent: string[] = [];
  const log: LogModule = {
    debug: (...args: never[]) => {
      sent.push(String(args[0]));
      return Promise.resolve();
    },
  };
  return { log, sent };
}

it("drops them by default", async () => {
  const { log, sent } = fakeLog();
  skipSdkDebugLog(log, {});
  await log.debug(...(["Registering resource: t=fleet:index:Container"] as never[]));
  expect(sent).toEqual([]);
});

it("sends them when CONDUCTOR_SDK_DEBUG is set", async () => {
  const { log, sent } = fakeLog();
  skipSdkDebugLog(log, { [SDK_DEBUG_VARIABLE]: "1" });
  await log.debug(...(["Registering resource: t=fleet:index:Container"] as never[]));
  expect(sent).toEqual(["Registering resource: t=fleet:index:Container"]);
});
