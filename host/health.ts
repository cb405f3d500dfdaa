import * as http from "node:http";
import type { HealthCheckSpec } from "../protocol/requests";

export type Probe = { healthy: true } | { healthy: false; reason: string };

/** One GET of the health path; healthy means a 2xx answer within the timeout. */
export function probe(port: number, check: HealthCheckSpec): Promise<Probe> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: "127.0.0.1",
        port,
        path: check.path,
        timeout: check.timeoutMs,
        headers: { Connection: "close" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300
            ? { healthy: true }
            : { healthy: false, reason: `HTTP ${status}` },
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${check.timeoutMs}ms`)));
    req.on("error", (err) => resolve({ healthy: false, reason: err.message }));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
