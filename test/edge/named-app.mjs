// A service for the edge's tests, started by `cutover up` as each replica: it answers every request with
// JSON naming its service (SERVICE_NAME), version and colour, and the forwarding headers it was given.
//   GET /health  200 "ok"
import { createServer } from "node:http";

const { SERVICE_NAME: service, APP_VERSION: version, ENVIRONMENT: colour } = process.env;

const server = createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    return;
  }
  const body = JSON.stringify({
    service,
    version,
    colour,
    host: req.headers.host,
    forwardedProto: req.headers["x-forwarded-proto"],
    forwardedHost: req.headers["x-forwarded-host"],
    forwardedFor: req.headers["x-forwarded-for"],
  });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});

// Stop taking connections and leave once those open are done (the router has drained this colour first).
process.on("SIGTERM", () => server.close(() => process.exit(0)));

server.listen(Number(process.env.PORT), "127.0.0.1");
