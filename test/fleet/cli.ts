// scripts/fleet.sh runs this: a test fleet for a person to start and inspect
// by hand.  up | down | status
import { run } from "../e2e/harness";
import { type FleetRecord, listFleets, ownerAlive, removeLeftovers, startFleet } from "./fleet";

function describe(record: FleetRecord, states: Map<string, string>): string {
  const owner = !record.owner
    ? "persistent (scripts/fleet.sh down removes it)"
    : ownerAlive(record)
      ? `owned by process ${record.owner.pid}`
      : `left over: process ${record.owner.pid} is gone (the next start removes it)`;
  const lines = [
    `fleet ${record.runId}, started ${record.createdAt}, ${owner}`,
    ...record.hosts.map(
      (h) =>
        `  ${h.name}${h.systemd ? " (systemd)" : ""}: ssh -i ${record.keyFile} -p ${h.sshPort} root@127.0.0.1` +
        `   http://127.0.0.1:${h.httpPort}/   ${h.container}: ${states.get(h.container) ?? "absent"}`,
    ),
    `  front LB:  ${record.frontUrl}  over ${record.frontHosts.join(", ")}`,
    `  registry:  ${record.registry.address} from the hosts, ${record.registry.localAddress} from here` +
      ` (user ${record.registry.username}, password ${record.registry.password})`,
    `  files:     ${record.dir}`,
  ];
  return lines.join("\n");
}

async function containerStates(): Promise<Map<string, string>> {
  const r = await run("docker", [
    "ps",
    "-a",
    "--filter",
    "name=conductor-fleet-",
    "--format",
    "{{.Names}}\t{{.Status}}",
  ]);
  return new Map(
    r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t") as [string, string]),
  );
}

async function main(command: string | undefined): Promise<number> {
  const log = (line: string) => console.log(`    ${line}`);
  switch (command) {
    case "up": {
      const existing = listFleets().find((r) => !r.owner);
      if (existing) {
        console.log("A persistent fleet is up already:");
        console.log(describe(existing, await containerStates()));
        return 0;
      }
      const fleet = await startFleet({ persistent: true, log });
      const record = listFleets().find((r) => r.runId === fleet.runId)!;
      console.log(describe(record, await containerStates()));
      return 0;
    }
    case "down": {
      const removed = await removeLeftovers(log, true);
      console.log(removed.length ? `removed ${removed.length} fleet(s)` : "no fleet to remove");
      return 0;
    }
    case "status": {
      const records = listFleets();
      if (records.length === 0) console.log("no fleet");
      const states = await containerStates();
      for (const record of records) console.log(describe(record, states));
      return 0;
    }
    default:
      console.error("usage: scripts/fleet.sh up|down|status");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  },
);
