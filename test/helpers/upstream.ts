/**
 * A real HTTP upstream for router tests, started on a free loopback port. It answers with its name:
 *
 *   GET /             body: its name; header x-upstream: its name
 *   GET /slow?ms=N    its name after N milliseconds
 *   POST /echo        streams the request body back as it arrives
 *   GET /headers      JSON of the request headers it received
 *   GET /hold         sends "first\n" at once, the rest ("rest\n") once release() is called
 *   GET /hop          an answer carrying hop-by-hop headers the router must strip
 *   WS  /ws           sends "hello from <name>", then echoes "<name>: <message>"
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { Endpoint } from "../../src/engine/ports/platform.js";

export interface TestUpstream {
  readonly name: string;
  readonly port: number;
  readonly endpoint: Endpoint;
  /** Requests answered so far (WebSocket handshakes not counted). */
  readonly requests: number;
  /** Lets the waiting /hold answers finish. */
  release(): void;
  /** Stops listening and cuts every open connection, like a replica that was killed. */
  stop(): Promise<void>;
}

export async function startUpstream(name: string): Promise<TestUpstream> {
  let requests = 0;
  let releaseHeld: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    requests++;
    answer(name, req, res, (release) => releaseHeld.push(release));
  });
  const sockets = new WebSocketServer({ server, path: "/ws" });
  sockets.on("connection", (socket) => {
    socket.send(`hello from ${name}`);
    socket.on("message", (data) => socket.send(`${name}: ${String(data)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    endpoint: { id: name, host: "127.0.0.1", port },
    get requests() {
      return requests;
    },
    release() {
      const waiting = releaseHeld;
      releaseHeld = [];
      for (const release of waiting) release();
    },
    async stop() {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function answer(
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  hold: (release: () => void) => void,
): void {
  const url = new URL(req.url ?? "/", "http://upstream");
  switch (url.pathname) {
    case "/slow": {
      const timer = setTimeout(() => res.end(name), Number(url.searchParams.get("ms") ?? 1000));
      res.once("close", () => clearTimeout(timer));
      return;
    }
    case "/echo":
      res.writeHead(200, { "content-type": "application/octet-stream", "x-upstream": name });
      req.pipe(res);
      return;
    case "/headers":
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(JSON.stringify(req.headers));
      return;
    case "/hold":
      res.writeHead(200, { "content-type": "text/plain", "x-upstream": name });
      res.write("first\n");
      hold(() => res.end("rest\n"));
      return;
    case "/hop":
      res.writeHead(200, {
        "content-type": "text/plain",
        connection: "x-private",
        "x-private": "secret",
        "proxy-authenticate": "Basic",
        "x-cutover-colour": "spoofed",
        "x-upstream": name,
      });
      res.end(name);
      return;
    default:
      res.writeHead(200, { "content-type": "text/plain", "x-upstream": name });
      res.end(name);
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
