// `conductor status`, pause and resume against a fake Docker and a temp store.
import * as fs from "node:fs";
import type { ContainerSpec } from "../../protocol/requests";
import { renderNginxSite } from "../../components/nginx-config";
import { withHolds } from "../nginx-holds";
import { type FakeHost, fakeHost, START } from "../fakes.testutil";
import { UsageError } from "../run";
import { collectStatus, formatStatus, pause, resume, type ServiceStatus } from "./status";

const WEB = "acme_app_production";
const JOBS = "acme_jobs_production";
const W0 = `${WEB}-0-5c1d8e22aa`;
const W1 = `${WEB}-1-0b9e1f27c4`;
const J0 = `${JOBS}-0-77aa00bb11`;
const spec = (serviceId: string, slot: number, http = true): ContainerSpec => ({
  serviceId,
  slot,
  image: "registry.example.com/acme/app",
  revision: "279d9035886d4c0427549863c4c2101e4a63e041",
  env: {},
  http: http
    ? {
        port: 3000,
        healthCheck: { path: "/health", timeoutMs: 1000, intervalMs: 1000, deadlineMs: 5000 },
      }
    : undefined,
  stopTimeoutMs: 10_000,
});
const release = (serviceId: string, containers: string[], supervise = true) => ({
  serviceId,
  image: "registry.example.com/acme/app",
  revision: "279d9035886d4c0427549863c4c2101e4a63e041",
  env: {},
  containers,
  supervise,
});

let host: FakeHost;
beforeEach(() => {
  host = fakeHost();
  host.store.writeContainer({ name: W0, hostPort: 20000, spec: spec(WEB, 0) });
  host.store.writeContainer({ name: W1, hostPort: 20001, spec: spec(WEB, 1) });
  host.store.writeContainer({ name: J0, spec: spec(JOBS, 0, false) });
  host.store.writeRelease(release(WEB, [W0, W1]));
  host.store.writeRelease(release(JOBS, [J0], false));
  host.docker.add(W0, "exited");
  host.docker.add(W1, "running");
  host.docker.add(J0, "running");
  host.store.writeSupervisorStatus({
    updatedAt: START,
    containers: {
      [W0]: {
        serviceId: WEB,
        memory: { failures: 0, attempts: 3, notBefore: START + 20_000, restarts: 3 },
        observed: "stopped",
      },
    },
  });
});
afterEach(() => host.cleanup());

const STATUS: ServiceStatus[] = [
  {
    id: WEB,
    revision: "279d9035886d4c0427549863c4c2101e4a63e041",
    supervision: "paused",
    desired: 2,
    running: 1,
    healthy: 1,
    containers: [
      {
        name: W0,
        state: "exited",
        healthy: undefined,
        restarts: 3,
        backoffUntil: "2026-11-26T08:00:20.000Z",
      },
      { name: W1, state: "running", healthy: true, restarts: 0, backoffUntil: undefined },
    ],
    problems: [],
  },
];

describe("collectStatus", () => {
  it("gives each service's supervision, counts, and each container's state, health and restarts", async () => {
    host.store.pause(WEB, new Date(START));
    expect(await collectStatus(host.fx)).toEqual([
      ...STATUS,
      {
        id: JOBS,
        revision: "279d9035886d4c0427549863c4c2101e4a63e041",
        supervision: "off",
        desired: 1,
        running: 1,
        healthy: 1,
        containers: [
          { name: J0, state: "running", healthy: undefined, restarts: 0, backoffUntil: undefined },
        ],
        problems: [],
      },
    ]);
    expect(host.trace.filter((t) => t.startsWith("probe"))).toEqual(["probe 20001/health"]);
  });

  it("counts an unhealthy running container as running, not healthy", async () => {
    host.probe = () => ({ healthy: false, reason: "HTTP 500" });
    const [web] = await collectStatus(host.fx);
    expect(web).toMatchObject({ supervision: "active", running: 1, healthy: 0 });
    expect(web.containers[1]).toMatchObject({ state: "running", healthy: false });
  });

  it("shows a corrupt release as a service that is not supervised, and a corrupt record under its service", async () => {
    fs.writeFileSync(host.store.releaseFile(JOBS), JSON.stringify({ serviceId: JOBS }));
    fs.writeFileSync(host.store.containerFile(W1), "{}");
    const status = await collectStatus(host.fx);
    expect(status.map((s) => [s.id, s.supervision, s.problems])).toEqual([
      [
        WEB,
        "active",
        [
          `container ${W1} is not supervised: ${host.store.containerFile(W1)} is not a container record: ` +
            "name: Invalid input: expected string, received undefined; " +
            "spec: Invalid input: expected object, received undefined",
        ],
      ],
      [
        JOBS,
        "unknown",
        [
          `not supervised: ${host.store.releaseFile(JOBS)} is not a release: ` +
            "image: Invalid input: expected string, received undefined; " +
            "revision: Invalid input: expected string, received undefined; " +
            "env: Invalid input: expected record, received undefined; " +
            "containers: Invalid input: expected array, received undefined; " +
            "supervise: Invalid input: expected boolean, received undefined",
        ],
      ],
    ]);
  });

  it("puts a corrupt record of a container no release lists under the service its name begins with", async () => {
    host.store.removeRelease(JOBS);
    fs.writeFileSync(host.store.containerFile(J0), "[]");
    const status = await collectStatus(host.fx);
    expect(status.map((s) => [s.id, s.supervision, s.problems.length])).toEqual([
      [WEB, "active", 0],
      [JOBS, "unknown", 1],
    ]);
  });
});

describe("a replica the supervisor holds out of nginx", () => {
  /** WEB's nginx file as the committer wrote it with `held` marked. */
  const markedInNginx = (held: Map<number, number>) =>
    host.fx.nginxConfDir.write(
      `conductor-${WEB}.conf`,
      withHolds(
        renderNginxSite({ serviceId: WEB, listen: 80, serverName: "_", ports: [20000, 20001] }),
        held,
      ),
    );

  it("is not shown out of nginx when its file does not mark it (every replica held, or a commit that failed)", async () => {
    host.store.writeHolds({
      [WEB]: { [W0]: { port: 20000, since: START }, [W1]: { port: 20001, since: START + 5 } },
    });
    markedInNginx(
      new Map([
        [20000, START],
        [20001, START + 5],
      ]),
    );
    const [web] = await collectStatus(host.fx);
    expect(web.containers[0].heldOutSince).toBeUndefined();
    expect(web.containers[1].heldOutSince).toBe(new Date(START + 5).toISOString());
  });

  it("is shown with when it was held, in the JSON and in the table's notes", async () => {
    host.store.writeHolds({ [WEB]: { [W1]: { port: 20001, since: START } } });
    markedInNginx(new Map([[20001, START]]));
    const [web] = await collectStatus(host.fx);
    expect(web.containers[1]).toMatchObject({ name: W1, heldOutSince: "2026-11-26T08:00:00.000Z" });
    expect(formatStatus([web])).toContain(
      `  ${W1}: running, out of nginx since 2026-11-26T08:00:00.000Z until it answers its health check\n`,
    );
  });
});

describe("formatStatus", () => {
  it("prints a table, then a line for each container that is not running and healthy", () => {
    expect(formatStatus(STATUS)).toBe(
      [
        "SERVICE              REVISION      SUPERVISION  DESIRED  RUNNING  HEALTHY  RESTARTS",
        "acme_app_production  279d9035886d  paused       2        1        1        3",
        "  acme_app_production-0-5c1d8e22aa: exited, backing off until 2026-11-26T08:00:20.000Z",
        "",
      ].join("\n"),
    );
  });

  it("prints each service's problems under its container lines", () => {
    const broken: ServiceStatus = {
      id: JOBS,
      revision: "-",
      supervision: "unknown",
      desired: 0,
      running: 0,
      healthy: 0,
      containers: [],
      problems: [
        "not supervised: /var/lib/conductor/releases/acme_jobs_production.json is not JSON: Unexpected end of JSON input",
      ],
    };
    const web = {
      ...STATUS[0],
      containers: [{ ...STATUS[0].containers[1], healthy: false }],
      problems: ["container x is not supervised: why"],
    };
    expect(formatStatus([broken, web])).toBe(
      [
        "SERVICE               REVISION      SUPERVISION  DESIRED  RUNNING  HEALTHY  RESTARTS",
        "acme_jobs_production  -             unknown      0        0        0        0",
        "acme_app_production   279d9035886d  paused       2        1        1        0",
        "  acme_jobs_production: not supervised: /var/lib/conductor/releases/acme_jobs_production.json is not JSON: Unexpected end of JSON input",
        "  acme_app_production-1-0b9e1f27c4: running, unhealthy",
        "  acme_app_production: container x is not supervised: why",
        "",
      ].join("\n"),
    );
  });

  it("says so when nothing is deployed", () => {
    expect(formatStatus([])).toBe("no services are deployed on this host\n");
  });
});

describe("pause and resume", () => {
  it("pause marks the service paused, with the time; resume clears it", () => {
    expect(pause(WEB, host.fx)).toBe(
      `${WEB}: paused; conductor supervise leaves it alone until \`conductor resume ${WEB}\``,
    );
    expect(host.store.isPaused(WEB)).toBe(true);
    expect(fs.readFileSync(host.store.pausedFile(WEB), "utf8")).toBe("2026-11-26T08:00:00.000Z\n");
    expect(resume(WEB, host.fx)).toBe(
      `${WEB}: supervised again (no conductor supervise runs on this host)`,
    );
    expect(host.store.isPaused(WEB)).toBe(false);
  });

  it("resume wakes the running supervisor, which passes at once", () => {
    host.processes.table.set(812, ["/usr/bin/node", "/usr/local/bin/conductor", "supervise"]);
    host.store.writeSupervisorPid(812);
    pause(WEB, host.fx);
    expect(resume(WEB, host.fx)).toBe(`${WEB}: supervised again`);
    expect(host.trace).toContain("kill 812 SIGUSR2");
  });

  it("refuses an id that is not deployed, listing those that are", () => {
    const message = `no service with id "acme_ap_production" is deployed on this host; deployed: ${WEB}, ${JOBS}`;
    expect(() => pause("acme_ap_production", host.fx)).toThrow(new UsageError(message));
    expect(() => resume("acme_ap_production", host.fx)).toThrow(new UsageError(message));
    expect(fs.existsSync(host.store.pausedFile("acme_ap_production"))).toBe(false);
  });
});
