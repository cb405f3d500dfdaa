import Mustache from "mustache";

export interface SiteView {
  serviceId: string;
  listen: number;
  serverName: string;
  ports: number[];
}

// The upstream holds the ports of the containers of this deploy. With no
// containers (replicas: 0) the server answers 503 instead of failing nginx -t
// on an empty upstream. proxy_next_upstream lets nginx try another replica when
// one refuses a connection (it is stopping), so clients do not see it.
// keepalive: without it every request opens a new connection to the container
// through docker-proxy, and at a few hundred requests a second the TIME_WAIT
// sockets exhaust the ephemeral ports (seen: resets at ~400 req/s on one replica).
const TEMPLATE = `# Written by conductor for {{serviceId}}. Do not edit: each deploy rewrites it.
{{#hasPorts}}
upstream conductor_{{serviceId}} {
{{#ports}}
    server 127.0.0.1:{{.}} max_fails=0;
{{/ports}}
    keepalive 16;
}

{{/hasPorts}}
server {
    listen {{listen}};
    server_name {{serverName}};

    location / {
{{#hasPorts}}
        proxy_pass http://conductor_{{serviceId}};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502;
{{/hasPorts}}
{{^hasPorts}}
        return 503;
{{/hasPorts}}
    }
}
`;

export function renderNginxSite(view: SiteView): string {
  const ports = [...view.ports].sort((a, b) => a - b);
  // Mustache escapes for HTML by default; nginx needs the text as it is.
  return Mustache.render(
    TEMPLATE,
    { ...view, ports, hasPorts: ports.length > 0 },
    {},
    { escape: (s) => String(s) },
  );
}
