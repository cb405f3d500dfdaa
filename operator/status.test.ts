// `npx conductor status`: the table, the JSON's verdict and its problems, from
// what each host answered. Not proven here: asking the hosts (test/fleet).
import { fleet, REV, serviceStatus } from "./fixtures.testutil";
import { fleetStatus, formatStatus } from "./status";

const ok = (host: string, value: ReturnType<typeof serviceStatus>[]) => ({
  host,
  ok: true as const,
  value,
});

describe("fleetStatus and formatStatus", () => {
  it("all healthy: one row per host and service, exit 0", () => {
    const status = fleetStatus(fleet(), [
      ok("h1", [serviceStatus("web"), serviceStatus("other", { id: "blog_web_production" })]),
      ok("h2", [serviceStatus("worker", { desired: 1 }), serviceStatus("web")]),
    ]);
    expect(status.healthy).toBe(true);
    expect(formatStatus(status)).toBe(
      [
        "HOST  SERVICE  REVISION  DESIRED  RUNNING  HEALTHY  RESTARTS  SUPERVISION",
        "h1    web      ccccccc   2        2        2        0         active",
        "h2    web      ccccccc   2        2        2        0         active",
        "h2    worker   ccccccc   1        1        1        0         active",
        "",
        "healthy: 5 containers on 2 hosts",
        "",
      ].join("\n"),
    );
  });

  it("an unreachable host is a row by its name and a problem, not an error", () => {
    const status = fleetStatus(fleet(), [
      ok("h1", [serviceStatus("web")]),
      {
        host: "h2",
        ok: false,
        error: "cannot connect over SSH to deploy@10.0.0.2:22: Connection refused",
      },
    ]);
    expect(status.healthy).toBe(false);
    expect(formatStatus(status)).toBe(
      [
        "HOST  SERVICE  REVISION  DESIRED  RUNNING  HEALTHY  RESTARTS  SUPERVISION",
        "h1    web      ccccccc   2        2        2        0         active",
        "h2    -        unreachable",
        "",
        "NOT healthy:",
        "  h2: unreachable: cannot connect over SSH to deploy@10.0.0.2:22: Connection refused",
        "",
      ].join("\n"),
    );
  });

  it("says what is not healthy: a missing service, a container down, restarts, pause", () => {
    const web = serviceStatus("web", {
      running: 1,
      healthy: 1,
      supervision: "paused",
      revision: REV.b,
    });
    web.containers[1] = {
      ...web.containers[1],
      state: "exited",
      healthy: undefined,
      restarts: 3,
      backoffUntil: "2025-06-01T10:05:00.000Z",
    };
    const status = fleetStatus(fleet(), [ok("h1", [web]), ok("h2", [serviceStatus("web")])]);
    expect(status.healthy).toBe(false);
    expect(status.problems).toStrictEqual([
      "h1 web: 1 of 2 healthy, 1 running",
      "h1 web: shop_web_production-1-0123456789: exited, restarts backing off until 2025-06-01T10:05:00.000Z",
      "h2 worker: not deployed on this host (run pulumi up)",
    ]);
    expect(formatStatus(status).split("\n").slice(0, 6)).toStrictEqual([
      "HOST  SERVICE  REVISION  DESIRED  RUNNING  HEALTHY  RESTARTS  SUPERVISION",
      "h1    web      bbbbbbb   2        1        1        3         paused",
      "h2    web      ccccccc   2        2        2        0         active",
      "h2    worker   -         -        -        -        -         not deployed",
      "",
      "h1 web: the config says revision ccccccc (run pulumi up)",
    ]);
  });

  it("shows a service of this stack the config no longer puts on the host", () => {
    const status = fleetStatus(fleet(), [
      ok("h1", [serviceStatus("web"), serviceStatus("cron", { desired: 0 })]),
      ok("h2", [serviceStatus("web"), serviceStatus("worker", { desired: 1 })]),
    ]);
    expect(status.hosts[0].services.map((s) => [s.service, s.inConfig])).toStrictEqual([
      ["cron", false],
      ["web", true],
    ]);
    expect(formatStatus(status)).toContain(
      "h1 cron: not in the stack's config on this host (run pulumi up)",
    );
    expect(status.healthy).toBe(true);
  });

  it("JSON keeps every field the table is made of", () => {
    const status = fleetStatus(fleet(), [
      ok("h1", [serviceStatus("web")]),
      { host: "h2", ok: false, error: "refused" },
    ]);
    expect(JSON.parse(JSON.stringify(status))).toMatchObject({
      stack: "production",
      healthy: false,
      hosts: [
        {
          host: "h1",
          reachable: true,
          services: [{ service: "web", deployed: true, healthy: true, status: { desired: 2 } }],
        },
        { host: "h2", reachable: false, error: "refused", services: [] },
      ],
      problems: ["h2: unreachable: refused"],
    });
  });
});
