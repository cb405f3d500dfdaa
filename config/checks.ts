/**
 * Second pass: rules that look across fields, one small function each. They run on the draft,
 * so a check skips whatever did not parse (its shape problem is already reported).
 */
import { serviceId } from "../protocol/rules";
import { show } from "./issues";
import type { Path, PathIssue } from "./issues";
import type { Draft, DraftService } from "./parse";
import { REVISION, REVISION_RULE } from "../protocol/rules";

export type Check = (draft: Draft) => PathIssue[];

const EXPECTED_REVISION = `expected ${REVISION_RULE}`;
/** distribution/reference's grammar: lowercase path components, optional registry[:port]. */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

function got(draft: Draft, path: Path, expected: string, value: unknown): PathIssue {
  return { path, message: `${expected}, got ${show(value, draft.isSecret(path))}` };
}

function plural(names: readonly string[], one: string, many: string): string {
  return `${names.length === 1 ? one : many} ${names.join(", ")}`;
}

export function ensureRevisionIsSet(draft: Draft): PathIssue[] {
  if (draft.revisionSet) return [];
  const missing = draft.services.filter((s) => s.raw.revision === undefined).map((s) => s.name);
  if (missing.length === 0) return [];
  const message =
    missing.length === 1
      ? `required, as service ${missing[0]} sets no revision of its own`
      : `required, as services ${missing.join(", ")} set no revision of their own`;
  return [{ path: ["revision"], message }];
}

export function ensureRevisionIsHex(draft: Draft): PathIssue[] {
  const revisions: [Path, string | undefined][] = [
    [["revision"], draft.revision],
    ...draft.services.map((s): [Path, string | undefined] => [
      ["services", s.name, "revision"],
      s.fields.revision,
    ]),
  ];
  return revisions
    .filter(([, rev]) => rev !== undefined && !REVISION.test(rev))
    .map(([path, rev]) => got(draft, path, EXPECTED_REVISION, rev));
}

/** The tag deployed is the revision, so a tag or digest in `image` would be ambiguous. */
export function ensureImageHasNoTag(draft: Draft): PathIssue[] {
  return draft.services.flatMap((s) => {
    const image = s.fields.image;
    if (image === undefined) return [];
    const { tag, digest } = splitImage(image);
    const extra = digest !== undefined ? "digest" : tag !== undefined ? "tag" : undefined;
    if (extra === undefined) return [];
    const expected = `expected a repository without a ${extra} (conductor deploys <image>:<revision>)`;
    return [got(draft, ["services", s.name, "image"], expected, image)];
  });
}

export function ensureImageIsRepository(draft: Draft): PathIssue[] {
  return draft.services.flatMap((s) => {
    const image = s.fields.image;
    if (image === undefined || REPOSITORY.test(splitImage(image).repository)) return [];
    const expected = "expected a repository such as registry.example.com/team/app (lowercase)";
    return [got(draft, ["services", s.name, "image"], expected, image)];
  });
}

/** Docker's reading: a ":" after the last "/" starts a tag, "@" starts a digest. */
export function splitImage(image: string): { repository: string; tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const name = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const colon = name.lastIndexOf(":");
  if (colon <= name.lastIndexOf("/")) return { repository: name, digest };
  return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
}

/**
 * The registry Docker pulls an image from: the part before the first "/" when
 * it looks like a host (has a "." or ":", is "localhost", or has capitals),
 * else Docker Hub (distribution/reference's splitDockerDomain).
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  const isHost = /[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase();
  if (!isHost || first === "index.docker.io") return "docker.io";
  return first;
}

/** Passwords reach hosts on stdin and stay secret in the state only if Pulumi encrypts them. */
export function ensureRegistryPasswordsSecret(draft: Draft): PathIssue[] {
  if (draft.registriesAreSecret) return [];
  return Object.keys(draft.registries).map((server) => {
    const path: Path = ["registries", server, "password"];
    const command = `pulumi config set --secret --path 'conductor:registries["${server}"].password'`;
    return { path, message: `expected a secret (set it with ${command}), got a plain value` };
  });
}

/** A local host is driven without SSH: a user or port would be silently ignored. */
export function ensureLocalHostHasNoSsh(draft: Draft): PathIssue[] {
  return Object.entries(draft.hosts).flatMap(([name, host]) => {
    if (host.address !== "local") return [];
    return (["user", "port"] as const)
      .filter((key) => host[key] !== undefined)
      .map((key) => {
        const expected = `a local host is reached without SSH, so it takes no ${key}`;
        return got(draft, ["hosts", name, key], expected, host[key]);
      });
  });
}

export function ensureHostsExist(draft: Draft): PathIssue[] {
  const known = draft.hostNames;
  if (!known) return [];
  return draft.services.flatMap((s) =>
    (s.fields.hosts ?? []).flatMap((host, i) => {
      if (known.includes(host)) return [];
      const path = ["services", s.name, "hosts", i];
      const message = `unknown host ${show(host, draft.isSecret(path))}, known hosts: ${known.join(", ")}`;
      return [{ path, message }];
    }),
  );
}

export function ensureServiceHasHosts(draft: Draft): PathIssue[] {
  return draft.services
    .filter((s) => s.fields.hosts?.length === 0)
    .map((s) => got(draft, ["services", s.name, "hosts"], "expected at least one host", []));
}

export function ensureServiceHostsUnique(draft: Draft): PathIssue[] {
  return draft.services.flatMap((s) =>
    (s.fields.hosts ?? []).flatMap((host, i, all) => {
      const first = all.indexOf(host);
      if (first === i) return [];
      return [got(draft, ["services", s.name, "hosts", i], `duplicate of hosts[${first}]`, host)];
    }),
  );
}

/** The hosts a service runs on: its own list, or every host. */
function hostsOf(draft: Draft, service: DraftService): string[] {
  return service.fields.hosts ?? draft.hostNames ?? [];
}

/** Two nginx servers with the same listen and server_name: nginx would serve only one. */
export function ensureListenUnique(draft: Draft): PathIssue[] {
  const seen: { name: string; key: string; hosts: string[] }[] = [];
  return draft.services.flatMap((s) => {
    const nginx = s.fields.http?.nginx;
    if (!nginx) return [];
    // nginx matches server names case-insensitively.
    const key = `${nginx.listen} ${nginx.serverName.toLowerCase()}`;
    const hosts = hostsOf(draft, s);
    const clash = seen.find((o) => o.key === key && o.hosts.some((h) => hosts.includes(h)));
    seen.push({ name: s.name, key, hosts });
    if (!clash) return [];
    const path = ["services", s.name, "http", "nginx"];
    const secret = draft.isSecret(path);
    const shared = hosts.filter((h) => clash.hosts.includes(h));
    const what = `listen ${show(nginx.listen, secret)} and serverName ${show(nginx.serverName, secret)}`;
    const where = plural(shared, "host", "hosts");
    return [{ path, message: `${what} are already used by service ${clash.name} on ${where}` }];
  });
}

/**
 * Ids name containers and files on the hosts. With today's name rules (no "_") distinct names
 * cannot give equal ids; this guards that invariant should the rules ever be relaxed.
 */
export function ensureIdsUnique(draft: Draft): PathIssue[] {
  const { app, stack } = draft;
  if (app === undefined || stack === undefined) return [];
  const owners = new Map<string, string>();
  return draft.services.flatMap((s) => {
    const id = serviceId(app, s.name, stack);
    const owner = owners.get(id);
    if (owner === undefined) {
      owners.set(id, s.name);
      return [];
    }
    return [
      { path: ["services", s.name], message: `id ${id} is already used by service ${owner}` },
    ];
  });
}

/** An http service is checked over HTTP (http.healthCheck); a second, command check would be ignored. */
export function ensureCommandCheckWithoutHttp(draft: Draft): PathIssue[] {
  return draft.services
    .filter((s) => s.fields.http && s.fields.healthCheck)
    .map((s) => ({
      path: ["services", s.name, "healthCheck"],
      message:
        "a service with http is checked over HTTP: set http.healthCheck.path, or remove http to check with a command",
    }));
}

/** Docker refuses two mounts on one path ("Duplicate mount point"). */
export function ensureVolumeTargetsUnique(draft: Draft): PathIssue[] {
  return draft.services.flatMap((s) =>
    (s.fields.volumes ?? []).flatMap((v, i, all) => {
      const first = all.findIndex((o) => o.target === v.target);
      if (first === i) return [];
      const path = ["services", s.name, "volumes", i];
      const target = show(v.target, draft.isSecret(path));
      return [{ path, message: `mounts on ${target}, as volumes[${first}] does already` }];
    }),
  );
}

export const CHECKS: readonly Check[] = [
  ensureRevisionIsSet,
  ensureRevisionIsHex,
  ensureImageHasNoTag,
  ensureImageIsRepository,
  ensureLocalHostHasNoSsh,
  ensureHostsExist,
  ensureServiceHasHosts,
  ensureServiceHostsUnique,
  ensureListenUnique,
  ensureIdsUnique,
  ensureRegistryPasswordsSecret,
  ensureCommandCheckWithoutHttp,
  ensureVolumeTargetsUnique,
];
