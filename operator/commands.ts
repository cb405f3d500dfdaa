// What `npx conductor status`, `logs`, `releases` and `rollback` do, from
// parsed arguments (main.ts) to an exit code: read the stack, ask the hosts or
// Pulumi, print. The parts that decide and format are in their own files.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../cli/commands";
import type { Fleet, Host, Service } from "../config/model";
import { conductor } from "../provider/transport";
import { parseHistory, releasesOf } from "./history";
import { connectionOf, onEveryHost } from "./hosts";
import { streamLogs } from "./logs";
import type { LogsArgs, ReleasesArgs, RollbackArgs, StatusArgs } from "./main";
import { pulumi, pulumiOk } from "./pulumi";
import { formatReleases, type HostImages, imagesWhere } from "./releases";
import { ask, describePlan, planRollback, RollbackError } from "./rollback";
import { configFileArgs, PROJECT_ROOT, readStack } from "./stack";
import { fleetStatus, formatStatus } from "./status";

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

export function findService(fleet: Fleet, stack: string, name: string): Service {
  const service = fleet.services.find((s) => s.name === name);
  if (!service)
    throw new UsageError(
      `no service ${name} in stack ${stack}; services: ${fleet.services.map((s) => s.name).join(", ")}`,
    );
  return service;
}

/** The service's hosts, or the one asked for, which must be one of them. */
export function hostsOf(fleet: Fleet, service: Service, only?: string): Host[] {
  if (only !== undefined && !service.hosts.includes(only))
    throw new UsageError(
      `${service.name} does not run on ${only}; its hosts: ${service.hosts.join(", ")}`,
    );
  const names = only === undefined ? service.hosts : [only];
  return names.map((n) => fleet.hosts.find((h) => h.name === n)!);
}

export async function status(args: StatusArgs): Promise<number> {
  const { fleet, privateKey } = readStack(args.stack, args.configFile);
  const reports = await onEveryHost(
    fleet.hosts,
    privateKey,
    async (conn) => (await conductor(conn, "status report", {})).services,
  );
  const result = fleetStatus(fleet, reports);
  out(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
  return result.healthy ? 0 : 1;
}

export async function logs(args: LogsArgs): Promise<number> {
  const { fleet, privateKey } = readStack(args.stack, args.configFile);
  const service = findService(fleet, args.stack, args.service);
  return streamLogs({
    serviceId: service.id,
    connections: hostsOf(fleet, service, args.host).map((h) => connectionOf(h, privateKey)),
    query: args.query,
    out: (line) => out(`${line}\n`),
    err: (line) => err(`${line}\n`),
  });
}

async function history(stack: string, configFile?: string) {
  // --show-secrets: a secret value anywhere in conductor:services hides the whole key otherwise.
  const args = ["stack", "history", "--stack", stack, "--json", "--show-secrets"];
  if (!configFile) return releasesOf(parseHistory(await pulumiOk(args)));
  // `stack history` takes no --config-file: it reads the secrets salt from Pulumi.<stack>.yaml
  // in its project directory, and writes a new one there when the file is missing. So: a
  // directory of its own with the project file and this config file under that name.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-history-"));
  try {
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.copyFileSync(path.resolve(PROJECT_ROOT, configFile), path.join(dir, `Pulumi.${stack}.yaml`));
    return releasesOf(parseHistory(await pulumiOk(args, { cwd: dir })));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Each host's tags of the images of the services (not pinned) on it. */
function hostImages(fleet: Fleet, pinned: Record<string, string>, privateKey?: string) {
  const following = fleet.services.filter((s) => !(s.name in pinned));
  const hosts = fleet.hosts.filter((h) => following.some((s) => s.hosts.includes(h.name)));
  return onEveryHost(hosts, privateKey, async (conn) => {
    const images: HostImages = {};
    for (const s of following.filter((s) => s.hosts.includes(conn.host)))
      images[s.image] ??= (
        await conductor(conn, "image list", { serviceId: s.id, image: s.image })
      ).tags;
    return images;
  });
}

export async function releases(args: ReleasesArgs): Promise<number> {
  const { fleet, privateKey, pinned } = readStack(args.stack, args.configFile);
  const [list, images] = await Promise.all([
    history(args.stack, args.configFile),
    hostImages(fleet, pinned, privateKey),
  ]);
  out(formatReleases(args.stack, list, (rev) => imagesWhere(fleet, pinned, rev, images)));
  return 0;
}

export async function rollback(args: RollbackArgs): Promise<number> {
  const { fleet, pinned } = readStack(args.stack, args.configFile);
  let plan;
  try {
    plan = planRollback(fleet, pinned, await history(args.stack, args.configFile), args.to);
  } catch (e) {
    if (!(e instanceof RollbackError)) throw e;
    err(`conductor: ${e.message}\n`);
    return 1;
  }
  out(describePlan(args.stack, plan));
  const stackArgs = ["--stack", args.stack, ...configFileArgs(args.configFile)];
  const setRevision = (revision: string) =>
    pulumiOk(["config", "set", ...stackArgs, "conductor:revision", revision]);
  const restore = async () => {
    if (plan.from) await setRevision(plan.from);
    else await pulumiOk(["config", "rm", ...stackArgs, "conductor:revision"]);
    out(`Nothing deployed; conductor:revision is ${plan.from ?? "unset"} again.\n`);
  };
  await setRevision(plan.to);
  if (!args.yes) {
    const preview = await pulumi(["preview", ...stackArgs], { show: true });
    if (preview.code !== 0) {
      await restore();
      return preview.code;
    }
    if (!(await ask(`Deploy ${plan.to} to stack ${args.stack}? [y/N] `))) {
      await restore();
      return 1;
    }
  }
  const up = await pulumi(
    ["up", ...stackArgs, "--yes", ...(args.yes ? [] : ["--skip-preview"]), ...wideParallel()],
    { show: true },
  );
  out(
    up.code === 0
      ? `Stack ${args.stack} runs ${plan.to} now (conductor:revision in its config).\n`
      : `pulumi up failed: conductor:revision stays ${plan.to} in the config; fix what it says and run pulumi up, or roll back again with --to ${plan.from ?? "<sha>"}.\n`,
  );
  return up.code;
}

/**
 * A rollback is a deploy: every container's step at once, as the deploy
 * workflow does (README, "Many containers, few cores"), unless the operator
 * set PULUMI_PARALLEL.
 */
function wideParallel(): string[] {
  return process.env.PULUMI_PARALLEL ? [] : ["--parallel", "64"];
}
