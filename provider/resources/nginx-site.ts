// fleet:index:NginxSite — /etc/nginx/conf.d/conductor-<id>.conf on a host,
// checked with nginx -t and reloaded by the host command.
import { RESOURCE_TYPES } from "../../protocol/names";
import { nginxApplyRequest } from "../../protocol/requests";
import { withConnection } from "./read";
import { serviceFileHandler } from "./service-file";

export const nginxSiteHandler = serviceFileHandler({
  type: RESOURCE_TYPES.nginxSite,
  apply: "nginx apply",
  remove: "nginx remove",
  inputs: withConnection(nginxApplyRequest),
  updateOn: ["config"],
  // The file as it is: an edit shows as the config's diff, and `up` writes ours back.
  readCommand: "nginx read",
  observe: ({ config }) => (config === null ? "gone" : { actual: { config } }),
});
