/**
 * The daemon's end of the control socket when the data plane process goes away mid-conversation: every
 * request fails with DATAPLANE_FAILED, and nothing else happens. vscode-jsonrpc's sendRequest rethrows a
 * failed write where nothing can catch it; the daemon once died of that unhandled rejection when its data
 * plane was killed with -9, before it could say what had happened.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataPlaneClient } from "../../src/dataplane/dataplane-client.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A control socket whose far end closes each connection as soon as it has read its first bytes. */
async function closingServer(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-control-"));
  const path = join(dir, "dataplane.sock");
  const server: Server = createServer((socket) => {
    socket.once("data", () => socket.end());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return path;
}

describe("DataPlaneClient when the data plane process goes away", () => {
  it("fails every request in flight or sent after, with DATAPLANE_FAILED, and leaves nothing unhandled", async () => {
    const path = await closingServer();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(() => process.off("unhandledRejection", onUnhandled));
    for (let round = 0; round < 20; round++) {
      const client = await DataPlaneClient.connect(path);
      const outcomes: Promise<string>[] = [];
      // Requests back to back while the far end reads the first and closes: some go out after its FIN.
      while (!client.closed && outcomes.length < 2_000) {
        outcomes.push(
          client.request("snapshot").then(
            () => "answered",
            (error: { code?: string }) => error.code ?? "no code",
          ),
        );
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const codes = new Set(await Promise.all(outcomes));
      expect([...codes]).toEqual(["DATAPLANE_FAILED"]);
      client.close();
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  });
});
