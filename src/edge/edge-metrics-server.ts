import { createServer, type Server } from "node:http";
import type { EdgeMetrics } from "./edge-metrics.js";

/**
 * The edge's metrics listener: GET /metrics (Prometheus text) and GET /health, nothing else and no token,
 * as a scraper on the same machine reads it.
 */
export function createMetricsServer(metrics: EdgeMetrics): Server {
  return createServer((req, res) => {
    req.resume();
    const path = new URL(req.url ?? "/", "http://edge").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("use GET\n");
      return;
    }
    if (path === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}\n');
      return;
    }
    if (path !== "/metrics") {
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("the edge's metrics listener answers /metrics and /health\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(error)}\n`),
    );
  });
}
