/**
 * The demo service: a tiny HTTP service that says which version and colour answered.
 *
 *   GET /          JSON { environment, version, message, replica }
 *   GET /health    JSON { status: "healthy", environment, version }  (503 when FAIL_HEALTH=1)
 *   GET /metrics   Prometheus text: requests, errors, requests in flight, latency histogram, labelled by version
 *                  and environment
 *   GET /slow?ms=N answers after N milliseconds (for requests in flight across a switch)
 *   POST /greetings  records "Hello from <colour> <version>" in the database (2.x also records its author)
 *   GET /greetings   the latest greetings; both need DATABASE_URL (given by cutover with a `database:` section)
 *   WS  /ws        echoes each message, prefixed with the version
 *
 * Knobs to misbehave on purpose, from the environment:
 *   ERROR_RATIO=0.2        share of requests to / answered with 500
 *   ADDED_LATENCY_MS=50    extra latency on every request to /
 *   FAIL_HEALTH=1          /health answers 503
 *   CRASH_AFTER_S=10       exit(1) after N seconds
 *   SLOW_START_S=5         wait N seconds before listening
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { WebSocketServer } from "ws";
import { greetingStore } from "./db.js";

const port = Number(process.env.PORT ?? 3000);
const version = process.env.APP_VERSION ?? "0.0.0";
const environment = process.env.ENVIRONMENT ?? "local";
const replica = process.env.REPLICA ?? "0";
const errorRatio = Number(process.env.ERROR_RATIO ?? 0);
const addedLatencyMs = Number(process.env.ADDED_LATENCY_MS ?? 0);
const failHealth = process.env.FAIL_HEALTH === "1" || process.env.FAIL_HEALTH === "true";
const crashAfterS = Number(process.env.CRASH_AFTER_S ?? 0);
const slowStartS = Number(process.env.SLOW_START_S ?? 0);

/** 2.x is built after migration 0002 and knows the `author` column; 1.x does not. */
const store = greetingStore({ knowsAuthor: Number(version.split(".")[0]) >= 2 });

const registry = new Registry();
registry.setDefaultLabels({ version, environment });
const requests = new Counter({
  name: "http_requests_total",
  help: "Requests served",
  labelNames: ["path", "status"] as const,
  registers: [registry],
});
const errors = new Counter({
  name: "http_errors_total",
  help: "Requests answered with 5xx",
  registers: [registry],
});
const inFlight = new Gauge({
  name: "http_requests_in_flight",
  help: "Requests received and not yet answered",
  labelNames: ["path"] as const,
  registers: [registry],
});
const latency = new Histogram({
  name: "http_request_duration_seconds",
  help: "Request latency",
  labelNames: ["path"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-app-version": version,
    "x-app-environment": environment,
  });
  res.end(text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
  const url = new URL(req.url ?? "/", "http://localhost");
  switch (url.pathname) {
    case "/health":
      if (failHealth) {
        sendJson(res, 503, { status: "unhealthy", environment, version, reason: "FAIL_HEALTH is set" });
        return 503;
      }
      sendJson(res, 200, { status: "healthy", environment, version });
      return 200;
    case "/metrics": {
      const text = await registry.metrics();
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(text);
      return 200;
    }
    case "/slow": {
      await sleep(Number(url.searchParams.get("ms") ?? 1000));
      sendJson(res, 200, { environment, version, message: "slow answer", replica });
      return 200;
    }
    case "/greetings": {
      if (!store.enabled) {
        sendJson(res, 501, { error: "no database: start the demo with DATABASE_URL", version });
        return 501;
      }
      if (req.method === "POST") {
        const greeting = await store.record(
          `Hello from ${environment} ${version}`,
          `${environment}-${replica}`,
        );
        sendJson(res, 201, { environment, version, greeting });
        return 201;
      }
      sendJson(res, 200, { environment, version, greetings: await store.recent(10) });
      return 200;
    }
    case "/echo": {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "content-type": "application/octet-stream", "x-app-version": version });
      res.end(body);
      return 200;
    }
    case "/": {
      if (addedLatencyMs > 0) await sleep(addedLatencyMs);
      if (errorRatio > 0 && Math.random() < errorRatio) {
        sendJson(res, 500, { environment, version, message: "injected error (ERROR_RATIO)", replica });
        return 500;
      }
      sendJson(res, 200, { environment, version, message: `Hello from ${environment} ${version}`, replica });
      return 200;
    }
    default:
      sendJson(res, 404, { error: "not found", path: url.pathname });
      return 404;
  }
}

const server = createServer((req, res) => {
  const started = process.hrtime.bigint();
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const label = ["/", "/health", "/metrics", "/slow", "/echo", "/greetings"].includes(path) ? path : "other";
  inFlight.inc({ path: label });
  res.once("close", () => inFlight.dec({ path: label }));
  handle(req, res).then(
    (status) => {
      requests.inc({ path: label, status: String(status) });
      if (status >= 500) errors.inc();
      latency.observe({ path: label }, Number(process.hrtime.bigint() - started) / 1e9);
    },
    (error: unknown) => {
      errors.inc();
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      else res.destroy();
    },
  );
});

// WebSockets on /ws; ws is loaded by the first upgrade (most replicas never see one, and it costs a start-up).
let sockets: Promise<WebSocketServer> | null = null;
function webSockets(): Promise<WebSocketServer> {
  sockets ??= import("ws").then(({ WebSocketServer }) => {
    const created = new WebSocketServer({ noServer: true });
    created.on("connection", (socket) => {
      socket.send(`hello from ${environment} ${version}`);
      socket.on("message", (data) => socket.send(`${version}: ${String(data)}`));
    });
    return created;
  });
  return sockets;
}
server.on("upgrade", (req, socket, head) => {
  socket.on("error", () => socket.destroy());
  if (new URL(req.url ?? "/", "http://demo").pathname !== "/ws") {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  void webSockets().then((wss) =>
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req)),
  );
});

function shutdown(): void {
  // Finish what is in flight, refuse nothing that already arrived, then exit.
  server.close(() => void store.close().finally(() => process.exit(0)));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 30_000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

if (crashAfterS > 0) {
  setTimeout(() => {
    console.error(`crashing on purpose after ${crashAfterS}s (CRASH_AFTER_S)`);
    process.exit(1);
  }, crashAfterS * 1000).unref();
}

setTimeout(() => {
  server.listen(port, "127.0.0.1", () => {
    console.log(JSON.stringify({ msg: "demo-app listening", port, version, environment, replica }));
  });
}, slowStartS * 1000);
