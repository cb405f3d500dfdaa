// `conductor image pull`: the image of a service's revision on this host,
// pulled through the Engine API with the registry's credentials (the Engine
// does not read the docker CLI's ~/.docker/config.json). The deploy runs it on
// every host of a service before any new container of the service starts.
import { type HostEffects, hostEffects, type Log } from "./effects";
import type { ImagePullRequest, RequestOf } from "../protocol/requests";

export async function imagePull(
  req: ImagePullRequest,
  log: Log,
  fx: Pick<HostEffects, "docker"> = hostEffects(),
): Promise<{ pulled: boolean }> {
  const ref = `${req.image}:${req.revision}`;
  if (await fx.docker.imageExists(ref)) return { pulled: false };
  const how = req.auth ? `as ${req.auth.username}` : "anonymously";
  log(`${ref}: not on this host, pulling from ${req.registry} ${how}`);
  const auth = req.auth && { ...req.auth, serveraddress: req.registry };
  try {
    await fx.docker.pullImage(req.image, req.revision, auth);
  } catch (err) {
    throw new Error(pullFailure(req, (err as Error).message));
  }
  log(`${ref}: pulled`);
  return { pulled: true };
}

export type PullFailure = "unauthorized" | "not found" | "unreachable" | "failed";

/** What went wrong, from the registry's answer as the Engine reports it. */
export function pullFailureKind(message: string): PullFailure {
  if (/unauthorized|no basic auth credentials|authentication required|denied/i.test(message))
    return "unauthorized";
  if (/manifest unknown|not found|name unknown/i.test(message)) return "not found";
  // Go's io.EOF is "EOF" as a word: case-insensitive, it matched names such as "videofeed".
  if (
    /dial tcp|no such host|connection refused|i\/o timeout|timeout|x509|certificate|network is unreachable|HTTP response to HTTPS client/i.test(
      message,
    ) ||
    /\bEOF\b/.test(message)
  )
    return "unreachable";
  return "failed";
}

const HINTS: Record<PullFailure, (req: RequestOf<"image pull">) => string> = {
  unauthorized: (req) =>
    req.auth
      ? `the registry refused the credentials of conductor:registries["${req.registry}"]`
      : `the registry wants credentials: add them to conductor:registries["${req.registry}"]`,
  "not found": (req) => `the registry has no ${req.image}:${req.revision}: is it pushed?`,
  unreachable: () => "this host cannot reach the registry (address, port, TLS trust)",
  failed: () => "the registry answered",
};

function pullFailure(req: ImagePullRequest, message: string): string {
  const kind = pullFailureKind(message);
  const ref = `${req.image}:${req.revision}`;
  return `cannot pull ${ref} from registry ${req.registry}: ${kind} (${HINTS[kind](req)}): ${message}`;
}
