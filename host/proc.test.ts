// nginxWorkers against a made-up /proc: which processes it counts. Not proven
// here: that the kernel shows other pid namespaces' processes this way (the
// e2e nginx tests run beside the test fleet's hosts, each with its own nginx).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nginxWorkers } from "./proc";

const OURS = "pid:[4026531836]";
const A_CONTAINER = "pid:[4026532301]";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-proc-"));
  fs.mkdirSync(path.join(root, "self", "ns"), { recursive: true });
  fs.symlinkSync(OURS, path.join(root, "self", "ns", "pid"));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A process as /proc shows it: its title (nginx rewrites argv into one) and its pid namespace. */
function proc(pid: number, title: string, namespace: string) {
  fs.mkdirSync(path.join(root, String(pid), "ns"), { recursive: true });
  fs.writeFileSync(path.join(root, String(pid), "cmdline"), `${title}\0`);
  fs.symlinkSync(namespace, path.join(root, String(pid), "ns", "pid"));
}

describe("nginxWorkers", () => {
  it("counts the workers of this host's nginx only, not those of an nginx in a container", () => {
    proc(100, "nginx: master process /usr/sbin/nginx", OURS);
    proc(101, "nginx: worker process", OURS);
    proc(102, "nginx: worker process is shutting down", OURS);
    proc(200, "nginx: master process nginx -g daemon off;", A_CONTAINER);
    proc(201, "nginx: worker process", A_CONTAINER);
    proc(202, "nginx: worker process is shutting down", A_CONTAINER);
    proc(300, "node /usr/local/bin/conductor nginx apply", OURS);
    expect(nginxWorkers(root)).toEqual({ running: [101], draining: 1 });
  });

  it("skips a process that exits while it looks", () => {
    proc(101, "nginx: worker process", OURS);
    fs.mkdirSync(path.join(root, "102")); // no cmdline any more
    expect(nginxWorkers(root)).toEqual({ running: [101], draining: 0 });
  });
});
