/** A real HTTP server that receives webhook calls: records each JSON body; can fail or hang on purpose. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookCall {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

export interface WebhookServer {
  readonly url: string;
  readonly calls: readonly WebhookCall[];
  /** Answers 500 to the next `n` calls. */
  failNext(n: number): void;
  /** Never answers from now on (until close). */
  hang(): void;
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const calls: WebhookCall[] = [];
  let failures = 0;
  let hanging = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (hanging) return;
      if (failures > 0) {
        failures--;
        res.writeHead(500).end("not now");
        return;
      }
      calls.push({
        path: req.url ?? "/",
        body: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
        at: Date.now(),
      });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(n) {
      failures = n;
    },
    hang() {
      hanging = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
