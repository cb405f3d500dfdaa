// Marking held servers in a service's nginx file, as components/nginx-config.ts renders it.
import { renderNginxSite } from "../components/nginx-config";
import { heldIn, withHolds, withoutHolds } from "./nginx-holds";

const SITE = renderNginxSite({
  serviceId: "shop_web_production",
  listen: 80,
  serverName: "shop.example.com",
  ports: [20001, 20002, 20003],
});
const held = (...entries: [number, number][]) => new Map(entries);

describe("holds in an nginx file", () => {
  it("marks a held server backup, the others as the deploy wrote them", () => {
    const text = withHolds(SITE, held([20002, 1]));
    expect(text).toContain("    server 127.0.0.1:20001 max_fails=0;\n");
    expect(text).toMatch(
      /\n {4}server 127\.0\.0\.1:20002 max_fails=0 backup; # held out by conductor supervise/,
    );
    expect(text).toContain("    server 127.0.0.1:20003 max_fails=0;\n");
    expect(heldIn(text)).toEqual([20002]);
  });

  it("takes holds out again: the file is the deploy's, byte for byte", () => {
    const text = withHolds(SITE, held([20001, 1], [20003, 2]));
    expect(heldIn(text)).toEqual([20001, 20003]);
    expect(withoutHolds(text)).toBe(SITE);
    expect(withHolds(text, held())).toBe(SITE);
    expect(withHolds(text, held([20003, 2]))).toBe(withHolds(SITE, held([20003, 2])));
  });

  it("never holds every server out: the one held longest stays in rotation", () => {
    const text = withHolds(SITE, held([20001, 30], [20002, 10], [20003, 20]));
    expect(heldIn(text)).toEqual([20001, 20003]);
  });

  it("leaves a single server in rotation, and ignores ports the file does not have", () => {
    const one = renderNginxSite({ serviceId: "s", listen: 80, serverName: "_", ports: [20001] });
    expect(withHolds(one, held([20001, 1]))).toBe(one);
    expect(withHolds(SITE, held([29999, 1]))).toBe(SITE);
  });

  it("takes out only its own mark: a backup or a comment added by hand stays", () => {
    const edited = SITE.replace(
      "20001 max_fails=0;",
      "20001 max_fails=0 backup; # by hand",
    ).replace("20003 max_fails=0;", "20003 max_fails=0; # canary");
    expect(withoutHolds(edited)).toBe(edited);
    expect(heldIn(edited)).toEqual([]);
    const text = withHolds(
      edited.replace("20003 max_fails=0; # canary", "20003 max_fails=0;"),
      held([20003, 1]),
    );
    expect(heldIn(text)).toEqual([20003]);
    expect(withoutHolds(text)).toContain("20001 max_fails=0 backup; # by hand\n");
    expect(heldIn(withoutHolds(text))).toEqual([]);
  });
});
