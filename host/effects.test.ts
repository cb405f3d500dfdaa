// hostEffects: what one process must share between the requests it serves.
import { hostEffects } from "./effects";

it("gives every request of a process the same locks of a state dir: container.ts groups the creates waiting for one by it", () => {
  const env = { CONDUCTOR_STATE_DIR: "/nonexistent/conductor-a" };
  expect(hostEffects(env).locks).toBe(hostEffects(env).locks);
  expect(hostEffects({ CONDUCTOR_STATE_DIR: "/nonexistent/conductor-b" }).locks).not.toBe(
    hostEffects(env).locks,
  );
});
