// A plain HTTP/2 cleartext server (node:http2, prior knowledge only: no HTTP/1.1, no gRPC) for the h2c tests,
// on 127.0.0.1:$PORT (0: any free port). It prints "h2c-app listening on <port>" once it serves.
//   GET /partial   200 with "partial-" and no Content-Length, then nothing more (kill it to cut the answer)
//   GET /health    HEALTH_STATUS (default 200), body "health <status>"
//   anything else  200 "ok from REPLICA"
import { createServer } from "node:http2";

const replica = process.env.REPLICA ?? "h2c-app";
const healthStatus = Number(process.env.HEALTH_STATUS ?? 200);

const server = createServer((req, res) => {
  if (req.url === "/partial") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("partial-");
    return;
  }
  if (req.url === "/health") {
    res.writeHead(healthStatus, { "content-type": "text/plain" });
    res.end(`health ${healthStatus}`);
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`ok from ${replica}`);
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`h2c-app listening on ${server.address().port}`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
