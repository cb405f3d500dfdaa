// A load generator for zero-downtime tests: a few loops sending GET (or POST)
// through nginx, each request on a fresh connection (Connection: close),
// counting every failure and which revision answered. Fresh connections
// because a keep-alive connection closed by an nginx reload is a race HTTP/1.1
// leaves to client retries (RFC 7230 6.3.1); that figure is reported, not
// asserted. POST because nginx never passes a non-idempotent request it has
// sent to another replica (proxy_next_upstream): a replica that takes the
// connection and then drops it fails a POST where a GET is retried.
import * as http from "node:http";

export interface LoadReport {
  requests: number;
  failures: number;
  /** failure reason -> count, e.g. "HTTP 502", "ECONNRESET" */
  failureReasons: Record<string, number>;
  /** When each request failed (ms since the epoch), in order. */
  failedAt: number[];
  /** response body (the revision) -> count */
  answers: Record<string, number>;
}

export interface Load {
  stop(): Promise<LoadReport>;
  snapshot(): LoadReport;
}

export function startLoad(
  url: string,
  options: { concurrency?: number; keepAlive?: boolean; method?: "GET" | "POST" } = {},
): Load {
  const method = options.method ?? "GET";
  // A small form body, as a browser's POST would send.
  const body = method === "POST" ? "greeting=hello" : "";
  const bodyHeaders = body
    ? {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": String(Buffer.byteLength(body)),
      }
    : {};
  const report: LoadReport = {
    requests: 0,
    failures: 0,
    failureReasons: {},
    failedAt: [],
    answers: {},
  };
  const agent = options.keepAlive
    ? new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 4 })
    : false;
  let running = true;
  const fail = (reason: string) => {
    report.failures++;
    report.failedAt.push(Date.now());
    report.failureReasons[reason] = (report.failureReasons[reason] ?? 0) + 1;
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.request(
        url,
        {
          method,
          agent,
          timeout: 10_000,
          headers: { ...bodyHeaders, ...(options.keepAlive ? {} : { Connection: "close" }) },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => {
            report.requests++;
            if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
            else report.answers[body.trim()] = (report.answers[body.trim()] ?? 0) + 1;
            resolve();
          });
          res.on("error", (err) => {
            report.requests++;
            fail(err.message);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        report.requests++;
        fail(err.code ?? err.message);
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (running) await once();
  };
  const loops = Array.from({ length: options.concurrency ?? 4 }, loop);
  return {
    snapshot: () => structuredClone(report),
    async stop() {
      running = false;
      await Promise.all(loops);
      if (agent) agent.destroy();
      return report;
    },
  };
}
