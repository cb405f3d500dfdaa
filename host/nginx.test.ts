// `nginx apply|remove` against a fake nginx (scripted `nginx -t`, /proc
// scans) and a temp conf dir. Not proven here: nginx's own reload semantics
// (the e2e zero-downtime test measures them).
import * as fs from "node:fs";
import { type FakeHost, fakeHost } from "./fakes.testutil";
import { nginxApply, nginxRemove } from "./nginx";

const ID = "shop_web_production";
const CONFIG = "upstream shop { server 127.0.0.1:20000; }\n";

let host: FakeHost;
let file: string;
beforeEach(() => {
  host = fakeHost();
  file = host.fx.nginxConfDir.path(`conductor-${ID}.conf`);
});
afterEach(() => host.cleanup());

const apply = (config = CONFIG) => nginxApply({ serviceId: ID, config }, host.logLine, host.fx);
const reject = () =>
  host.programs.set("nginx -t", {
    code: 1,
    stdout: "",
    stderr: 'nginx: [emerg] unknown directive "upstrem"\n',
  });

describe("nginx apply", () => {
  it("writes the file, checks, reloads and waits for the old workers to go", async () => {
    host.workerScans = [
      { running: [11, 12], draining: 0 }, // before the reload
      { running: [11, 12], draining: 0 }, // not reloaded yet
      { running: [21, 22], draining: 1 }, // new workers, an old one finishing
      { running: [21, 22], draining: 0 },
    ];
    const started = host.clock.now;
    await apply();
    expect(fs.readFileSync(file, "utf8")).toBe(CONFIG);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(host.trace).toEqual([
      "lock nginx",
      "exec nginx -t",
      "exec nginx -s reload",
      "unlock nginx",
    ]);
    expect(host.clock.now - started).toBe(100); // two 50 ms waits
    expect(host.workerScans).toHaveLength(1);
    expect(host.log).toEqual([`${file}: installed, nginx reloaded`]);
  });

  it("reloads even when the file already has this content (a deploy killed before reloading)", async () => {
    fs.writeFileSync(file, CONFIG);
    await apply();
    expect(host.trace).toContain("exec nginx -s reload");
  });

  it("puts the previous file back and does not reload when nginx -t fails", async () => {
    fs.writeFileSync(file, "previous\n");
    reject();
    await expect(apply("upstrem broken;\n")).rejects.toThrow(
      new Error(
        `nginx -t rejected ${file}; the previous file is back in place:\nnginx: [emerg] unknown directive "upstrem"`,
      ),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous\n");
    expect(host.trace).toEqual(["lock nginx", "exec nginx -t", "unlock nginx"]);
  });

  it("removes a new file that nginx -t rejects", async () => {
    reject();
    await expect(apply("upstrem broken;\n")).rejects.toThrow("nginx -t rejected");
    expect(fs.readdirSync(host.fx.nginxConfDir.dir)).toEqual([]);
  });

  it("fails when the reload fails, with nginx's message", async () => {
    host.programs.set("nginx -s reload", { code: 1, stdout: "", stderr: "nginx: no master\n" });
    await expect(apply()).rejects.toThrow(new Error("nginx -s failed (exit 1): nginx: no master"));
  });

  it("goes on after 60 s when old workers still drain, and says so", async () => {
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 1 },
    ];
    await apply();
    expect(host.log).toEqual([
      "nginx: old workers still draining after 60s, going on",
      `${file}: installed, nginx reloaded`,
    ]);
  });
});

describe("nginx remove", () => {
  it("removes the file and reloads", async () => {
    fs.writeFileSync(file, CONFIG);
    host.workerScans = [
      { running: [11], draining: 0 },
      { running: [21], draining: 0 },
    ];
    await nginxRemove({ serviceId: ID }, host.logLine, host.fx);
    expect(fs.existsSync(file)).toBe(false);
    expect(host.trace).toEqual(["lock nginx", "exec nginx -s reload", "unlock nginx"]);
    expect(host.log).toEqual([`${file}: removed, nginx reloaded`]);
  });

  it("does nothing when there is no file", async () => {
    await nginxRemove({ serviceId: ID }, host.logLine, host.fx);
    expect(host.trace).toEqual(["lock nginx", "unlock nginx"]);
    expect(host.log).toEqual([]);
  });
});
