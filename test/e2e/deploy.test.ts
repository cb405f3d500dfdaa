// The smallest real deploy: `pulumi up` starts the example behind nginx, a
// second `up` changes nothing, and `pulumi destroy` leaves nothing behind.
import * as fs from "node:fs";
import { buildExample, containersOf, exists, get, nginxFile } from "./docker";
import { serviceId, webConfig } from "./fixtures";
import { TestStack } from "./harness";

const REVISION = "d0d0d0d";
const LISTEN = 18090;

describe("deploy to the local host", () => {
  let stack: TestStack;
  const id = serviceId("smoke", "smoke");

  beforeAll(async () => {
    await buildExample(REVISION);
    stack = await TestStack.create("smoke");
    await stack.writeConfig(
      webConfig({ app: "smoke", revision: REVISION, kind: "local", listen: LISTEN }),
    );
  });

  afterAll(() => stack?.dispose());

  it("starts the containers and serves the revision through nginx", async () => {
    await stack.upOk();
    expect(await get(`http://127.0.0.1:${LISTEN}/`)).toEqual({ status: 200, body: REVISION });
    const containers = await containersOf(id);
    expect(containers.map((c) => c.state)).toEqual(["running", "running"]);
    expect(fs.readFileSync(nginxFile(id), "utf8")).toContain(`listen ${LISTEN};`);
  });

  it("changes nothing when run again with the same config", async () => {
    const before = await containersOf(id);
    await stack.pulumiOk(["preview", "--expect-no-changes"]);
    await stack.upOk();
    expect(await containersOf(id)).toEqual(before);
  });

  it("leaves no container, nginx file or cron file after destroy", async () => {
    await stack.destroy();
    expect(await containersOf(id)).toEqual([]);
    expect(exists(nginxFile(id))).toBe(false);
    expect(exists(`/etc/cron.d/conductor-${id}`)).toBe(false);
    expect((await get(`http://127.0.0.1:${LISTEN}/`)).status).not.toBe(200);
  });
});
