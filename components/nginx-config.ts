import Mustache from "mustache";

export interface SiteView {
  serviceId: string;
  listen: number;
  serverName: string;
  ports: number[];
}

// The upstream holds the ports of the containers of this deploy. With no
// containers (replicas: 0) the server answers 503 instead of failing nginx -t
// on an empty upstream.
//
// keepalive: without it every request opens a new connection to the container
// through docker-proxy, and at a few hundred requests a second the TIME_WAIT
// sockets exhaust the ephemeral ports (seen: resets at ~400 req/s on one replica).
//
// Fail-over when one replica dies, is restarted or is still booting (measured
// in test/e2e/supervise-faults.test.ts; README "Supervision"): nginx reaches a
// container through docker-proxy on 127.0.0.1:<port>. While the container is
// stopped the port refuses connections; while it runs but its app does not
// listen yet (booting), docker-proxy accepts the connection, fails to reach the
// app and closes it ("upstream prematurely closed connection", "recv() failed
// (104)"). Both are an `error` to proxy_next_upstream, so nginx passes the
// request to the next replica. A reused keep-alive connection the replica has
// closed is an error too: nginx does not count that try (ngx_http_upstream_next:
// "u->peer.tries++ ... TODO: inform balancer instead") but does mark the
// replica tried, so the retry goes to another replica, never to the same one.
// max_fails=0: a replica that failed is never taken out for fail_timeout; with
// max_fails=1 a replica that failed once would be skipped, and if the other
// one died within fail_timeout nginx would answer 502 "no live upstreams"
// while a healthy replica was there. So a GET never fails while one replica
// serves. Not retried: a request nginx has sent when the connection fails
// (POST and other non-idempotent methods; nginx >= 1.9.13), which is what
// docker-proxy does to a booting replica. `non_idempotent` would retry them
// even when the app got them and died mid-request, running them twice. So a
// booting replica takes no traffic at all: the deploy adds a container here
// only once it is healthy, and the supervisor marks one it repairs (or sees
// Docker kill or start) `backup` from before the repair until it answers its
// health check (host/nginx-holds.ts, host/supervise/holds.ts). This template
// never writes `backup`; `nginx read` leaves the supervisor's marks out.
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
