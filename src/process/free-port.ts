import { createServer } from "node:net";

const ATTEMPTS = 20;

/** A TCP port on `host` that nothing listens on right now, and that is not in `taken`. */
export async function freePort(host: string, taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await portTheKernelPicks(host);
    if (!taken.has(port)) return port;
  }
  throw new Error(`found no free port on ${host} after ${ATTEMPTS} attempts`);
}

function portTheKernelPicks(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`could not listen on ${host}`))));
    });
  });
}
