// The program's warm-up call must name the provider's function: plain JS
// (program.js loads it before any bundle) cannot import protocol/names.ts.
import { WARM_UP_FUNCTION as PROTOCOL_NAME } from "../protocol/names";
import { WARM_UP_FUNCTION } from "./warm-up";

it("calls the function the provider answers", () => {
  expect(WARM_UP_FUNCTION).toBe(PROTOCOL_NAME);
});
