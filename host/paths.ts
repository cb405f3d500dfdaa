// Where conductor keeps things on a host. Ids are validated by the config
// layer (lowercase letters, digits, '-' and '_'), so they are safe in paths.

export const STATE_DIR = process.env.CONDUCTOR_STATE_DIR ?? "/var/lib/conductor";
export const CRON_DIR = process.env.CONDUCTOR_CRON_DIR ?? "/etc/cron.d";
export const NGINX_CONF_DIR = process.env.CONDUCTOR_NGINX_CONF_DIR ?? "/etc/nginx/conf.d";

export const containersDir = () => `${STATE_DIR}/containers`;
export const containerRecord = (name: string) => `${containersDir()}/${name}.json`;
export const releasesDir = () => `${STATE_DIR}/releases`;
export const releaseFile = (serviceId: string) => `${releasesDir()}/${serviceId}.json`;
export const pausedDir = () => `${STATE_DIR}/paused`;
export const pausedFile = (serviceId: string) => `${pausedDir()}/${serviceId}`;
export const supervisorPidFile = () => `${STATE_DIR}/supervise.pid`;
export const supervisorStatusFile = () => `${STATE_DIR}/supervisor.json`;
export const saltFile = () => `${STATE_DIR}/salt`;
export const locksDir = () => `${STATE_DIR}/locks`;
export const nginxConf = (serviceId: string) => `${NGINX_CONF_DIR}/conductor-${serviceId}.conf`;
