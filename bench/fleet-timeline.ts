// Where the time of one deploy to a fleet host goes (issue 11): the test
// fleet (test/fleet/README.md), 1 service x 2 on h1 over SSH, the image from
// the fleet's registry (or on h1..hN: FLEET_TIMELINE_HOSTS), then revision changes under observation: the engine's
// steps (each resource), the processes on this machine and in the fleet's
// hosts (ssh, sshd, `conductor serve`, runc...; a fleet host is a container
// here, so /proc shows its processes), and the host's own Docker events; last,
// the fleet's own costs beside this machine's (a container's create, start and
// removal in h1's nested dockerd on vfs and here; an SSH connection). Not a
// test. Run it under the machine lock:
//   flock /tmp/conductor-machine.lock node -r esbuild-register bench/fleet-timeline.ts
// FLEET_TIMELINE_HOSTS (1), FLEET_TIMELINE_CHANGES (2), BENCH_BOOT_DELAY (1.5s), BENCH_DRAIN (1s).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { startFleet, type Fleet } from "../test/fleet/fleet";
import { FleetStack, imageOf, publish } from "../test/fleet/stacks";
import { type Observation, observe } from "./observe";
import { buildBenchImages, median, REVISIONS } from "./stacks";
import { cpuByKind, engineSteps, strip, upWithEvents } from "./timeline";

const CHANGES = Number(process.env.FLEET_TIMELINE_CHANGES ?? 2);
const BOOT_DELAY = process.env.BENCH_BOOT_DELAY ?? "1.5s";
const DRAIN = process.env.BENCH_DRAIN ?? "1s";
const HOST_1 = "h1";
const HOSTS = [HOST_1, "h2", "h3"].slice(0, Number(process.env.FLEET_TIMELINE_HOSTS ?? 1));

const f2 = (x: number) => x.toFixed(2).padStart(6);

/** Every engine event, in order: when each resource's step started and ended. */
function engineEvents(o: Observation): string[] {
  return o.engine.map(
    (e) => `  ${f2(e.at)}  ${e.phase.padEnd(7)} ${e.op.padEnd(8)} ${e.type} ${e.name}`,
  );
}

/** Processes born during the up that take part in it (ssh, the host's conductor, runtimes). */
function processes(o: Observation): string[] {
  const shown = /ssh|conductor|runc|containerd-shim|nginx|docker (pull|create|start)|sh -c/;
  return o.processes
    .filter((p) => p.start > 0 && shown.test(p.argv.join(" ")) && p.kind !== "this observer")
    .sort((a, b) => a.start - b.start)
    .map((p) => {
      const argv = p.argv.join(" ").replace(/\s+/g, " ");
      const where = p.ownNamespace ? "here" : "host";
      const cpu = (p.cpuLast - p.cpuFirst).toFixed(2);
      return `  ${f2(p.start)} - ${f2(p.lastSeen)}  ${where}  cpu ${cpu}  ${argv.slice(0, 110)}`;
    });
}

/** A fleet host's own Docker events between two times (epoch seconds), relative to `wall0`. */
async function hostDockerEvents(
  fleet: Fleet,
  host: string,
  wall0: number,
  wall1: number,
): Promise<string[]> {
  const r = await fleet.docker(host, [
    "events",
    "--since",
    wall0.toFixed(3),
    "--until",
    wall1.toFixed(3),
    "--format",
    "{{json .}}",
  ]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as {
        timeNano: number;
        Type: string;
        Action: string;
        Actor: { ID: string; Attributes: Record<string, string> };
      };
      const what = e.Actor.Attributes.name ?? e.Actor.ID;
      return `  ${f2(e.timeNano / 1e9 - wall0)}  ${host} ${e.Type} ${e.Action.split(":")[0]} ${what}`;
    });
}

/**
 * `docker create`, `start`, `rm -f` of the bench's image, 5 times, timed by
 * the shell that runs them (on a fleet host: inside it, so `docker exec` is
 * not counted).
 */
const DOCKER_LOOP = (ref: string) =>
  `for i in 1 2 3 4 5; do a=$(date +%s.%N); id=$(docker create ${ref}); b=$(date +%s.%N); docker start "$id" >/dev/null; c=$(date +%s.%N); docker rm -f "$id" >/dev/null; d=$(date +%s.%N); echo "$a $b $c $d"; done`;

/** Medians of DOCKER_LOOP's output: create, start, rm -f. */
function dockerTimes(out: string): string {
  const runs = out
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const med = (i: number) => median(runs.map((r) => r[i + 1] - r[i])).toFixed(3);
  return `create ${med(0)} s, start ${med(1)} s, rm -f ${med(2)} s (medians of ${runs.length})`;
}

/** What the fleet's hosts cost by themselves, beside the same on this machine. */
async function fleetCosts(fleet: Fleet): Promise<string[]> {
  const ref = `${imageOf(fleet)}:${REVISIONS[0]}`; // pulled by the deploys
  const driver = (await fleet.docker(HOST_1, ["info", "-f", "{{.Driver}}"])).stdout.trim();
  const here = execFileSync("docker", ["info", "-f", "{{.Driver}}"]).toString().trim();
  const onHost = (await fleet.exec(HOST_1, ["sh", "-c", DOCKER_LOOP(ref)])).stdout;
  const local = execFileSync("sh", ["-c", DOCKER_LOOP(`conductor-hello:${REVISIONS[0]}`)]);
  const ssh = (command: string) => {
    const args = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"];
    args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-i", fleet.keyFile);
    args.push("-p", String(fleet.host(HOST_1).sshPort), "root@127.0.0.1", command);
    return median([1, 2, 3, 4, 5].map(() => timedSync(() => execFileSync("ssh", args))));
  };
  return [
    `  ${HOST_1} (${driver}):  ${dockerTimes(onHost)}`,
    `  here (${here}): ${dockerTimes(local.toString())}`,
    `  a new SSH connection running \`true\`: ${ssh("true").toFixed(3)} s; running \`node -e 0\`: ${ssh("node -e 0").toFixed(3)} s (medians of 5)`,
  ];
}

function timedSync(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main() {
  await buildBenchImages(BOOT_DELAY, DRAIN);
  const fleet = await startFleet();
  let stack: FleetStack | undefined;
  try {
    for (const r of REVISIONS) await publish(fleet, r);
    stack = await FleetStack.create(fleet, "ftl", "ftl");
    const config = (i: number) => ({
      hosts: HOSTS,
      services: { web: { revision: REVISIONS[i % 2], replicas: 2, listen: 18510 } },
    });
    // The first deploy installs conductor and pulls the images: not observed.
    await stack.deployOk(config(0));
    await stack.deployOk(config(1));
    for (let i = 2; i < 2 + CHANGES; i++) {
      await stack.stack.writeConfig(stack.config(config(i)));
      const eventLog = path.join(stack.stack.dir, `events-${i}.jsonl`);
      const wall0 = Date.now() / 1000;
      const o = await observe(eventLog, () => upWithEvents(stack!.stack, eventLog));
      const wall1 = Date.now() / 1000;
      const events: string[] = [];
      for (const host of HOSTS) events.push(...(await hostDockerEvents(fleet, host, wall0, wall1)));
      events.sort();
      const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
      console.log(
        `\n== pulumi up, revision change, 1 service x 2 on fleet hosts ${HOSTS.join(", ")} over SSH: ${o.seconds.toFixed(2)} s (load after: ${load}) ==`,
      );
      const sections: [string, string[]][] = [
        ["engine steps (type op, count, first start - last end):", engineSteps(o)],
        ["engine events:", engineEvents(o)],
        [
          "processes born during the up (start - last seen, here or in a fleet host):",
          processes(o),
        ],
        ["the hosts' Docker events:", events],
        ["CPU seconds during the up:", cpuByKind(o)],
        ["every 0.5 s:", strip(o)],
      ];
      for (const [title, lines] of sections) console.log(`\n${title}\n${lines.join("\n")}`);
    }
    console.log(`\nthe fleet's own costs:\n${(await fleetCosts(fleet)).join("\n")}`);
  } finally {
    await stack?.stack.dispose();
    await fleet.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
