// The whole nginx file for a service. Not proven here: that nginx accepts it
// (the e2e tests run `nginx -t` on it).
import { renderNginxSite } from "./nginx-config";

describe("renderNginxSite", () => {
  it("lists the ports sorted in one upstream, proxied with keep-alive", () => {
    const text = renderNginxSite({
      serviceId: "shop_web_production",
      listen: 8080,
      serverName: "api.example.com",
      ports: [20011, 20003],
    });
    expect(text)
      .toBe(`# Written by conductor for shop_web_production. Do not edit: each deploy rewrites it.
upstream conductor_shop_web_production {
    server 127.0.0.1:20003 max_fails=0;
    server 127.0.0.1:20011 max_fails=0;
    keepalive 16;
}

server {
    listen 8080;
    server_name api.example.com;

    location / {
        proxy_pass http://conductor_shop_web_production;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502;
    }
}
`);
  });

  // An empty upstream block fails `nginx -t`, which would block every other site.
  it("answers 503 without an upstream when there are no ports", () => {
    const text = renderNginxSite({
      serviceId: "shop_web_production",
      listen: 80,
      serverName: "_",
      ports: [],
    });
    expect(text)
      .toBe(`# Written by conductor for shop_web_production. Do not edit: each deploy rewrites it.
server {
    listen 80;
    server_name _;

    location / {
        return 503;
    }
}
`);
  });

  it("sorts ports numerically, not as text", () => {
    const text = renderNginxSite({
      serviceId: "s",
      listen: 80,
      serverName: "_",
      ports: [9000, 10000],
    });
    expect(text.indexOf(":9000 ")).toBeLessThan(text.indexOf(":10000 "));
  });

  it("does not reorder the caller's ports", () => {
    const ports = [20011, 20003];
    renderNginxSite({ serviceId: "s", listen: 80, serverName: "_", ports });
    expect(ports).toEqual([20011, 20003]);
  });
});
