// A service for the local platform's tests, with knobs the demo app lacks.
//   GET /health  200, or 503 while the file named by HEALTH_FAIL_FILE exists
//   GET /        JSON { pid, version, environment, replica }
//   IGNORE_SIGTERM=1  keeps running on SIGTERM (only SIGKILL stops it)
import { existsSync } from "node:fs";
import { createServer } from "node:http";

const failFile = process.env.HEALTH_FAIL_FILE;

const server = createServer((req, res) => {
  if (req.url === "/health") {
    const failing = failFile !== undefined && existsSync(failFile);
    res.writeHead(failing ? 503 : 200).end(failing ? `failing because ${failFile} exists` : "ok");
    return;
  }
  const { APP_VERSION: version, ENVIRONMENT: environment, REPLICA: replica } = process.env;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ pid: process.pid, version, environment, replica }));
});

process.on("SIGTERM", () => {
  if (process.env.IGNORE_SIGTERM === "1") {
    console.log("fixture-service: ignoring SIGTERM");
    return;
  }
  server.close(() => process.exit(0));
});

server.listen(Number(process.env.PORT), "127.0.0.1", () =>
  console.log(`fixture-service listening, pid ${process.pid}`),
);
