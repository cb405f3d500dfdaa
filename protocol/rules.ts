// Rules both sides of the deploy hold to: what an id and a revision look like,
// and where the host command lives. The config layer checks them with paths
// for the operator; the host command checks them again on every request.

/** A git commit SHA, abbreviated or full: the tag of every image conductor deploys. */
export const REVISION = /^[0-9a-f]{7,40}$/;
export const REVISION_RULE = "a git commit SHA of 7 to 40 lowercase hex digits";

/**
 * `<app>_<service>_<stack>`, each part lowercase letters, digits and "-": it
 * names containers, files and locks on a host, so it is safe in a path.
 */
export const SERVICE_ID = /^[a-z0-9][a-z0-9_-]*$/;

/** Names containers, the nginx file, the cron file and `conductor run --id`. */
export function serviceId(app: string, service: string, stack: string): string {
  return `${app}_${service}_${stack}`;
}

/** Where the deploy installs the host command on every host. */
export const CONDUCTOR_BIN = "/usr/local/bin/conductor";

/**
 * The PATH conductor runs programs with on a host, whatever its caller's: cron
 * gives /usr/bin:/bin, where neither nginx (/usr/sbin) nor a node in
 * /usr/local/bin is found. Debian's /etc/crontab sets the same.
 */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
