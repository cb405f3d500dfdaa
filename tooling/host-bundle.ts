// The host command as one self-contained file, the thing the deploy copies to
// /usr/local/bin/conductor on every host (hosts need only Node.js). Built by
// esbuild when host/ changed since the last build, else reused (tooling/bundles.js).
import type { HostBundle } from "../components/host";
import { BUNDLES, freshBundle } from "./bundles";

export function buildHostBundle(): HostBundle {
  return freshBundle(BUNDLES.host);
}
