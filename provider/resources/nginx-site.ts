// fleet:index:NginxSite — /etc/nginx/conf.d/conductor-<id>.conf on a host,
// checked with nginx -t and reloaded by the host command.
import type { NginxApplyRequest } from "../../protocol/requests";
import { serviceFileHandler } from "./service-file";

export const nginxSiteHandler = serviceFileHandler({
  apply: "nginx apply",
  remove: "nginx remove",
  updateOn: ["config"],
  request: (inputs): NginxApplyRequest => ({
    serviceId: String(inputs.serviceId),
    config: String(inputs.config),
  }),
});
