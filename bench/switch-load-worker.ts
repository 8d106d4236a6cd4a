/**
 * The closed-loop loader of the switch drill, in a worker thread of its own so that its busy event loop
 * delays neither the switch command nor the timestamps: each connection sends GET / when its last answer
 * arrived, and records when each request left and its answer arrived (process.hrtime, shared by the threads), which colour
 * answered (x-app-environment) and what failed. Posts "ready", then its samples when told "stop".
 */
import { parentPort, workerData } from "node:worker_threads";
import { Pool } from "undici";

export interface LoadSample {
  readonly sentNs: bigint;
  readonly receivedNs: bigint;
  readonly colour: string | null;
  readonly error: string | null;
}

export interface LoadWorkerData {
  readonly url: string;
  readonly connections: number;
}

async function one(pool: Pool): Promise<LoadSample> {
  const sentNs = process.hrtime.bigint();
  try {
    const response = await pool.request({ method: "GET", path: "/" });
    await response.body.dump();
    const colour = response.headers["x-app-environment"];
    const error =
      response.statusCode >= 200 && response.statusCode < 300 ? null : `HTTP ${response.statusCode}`;
    return {
      sentNs,
      receivedNs: process.hrtime.bigint(),
      colour: typeof colour === "string" ? colour : null,
      error,
    };
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    return { sentNs, receivedNs: process.hrtime.bigint(), colour: null, error: code };
  }
}

if (parentPort !== null) {
  const port = parentPort;
  const { url, connections } = workerData as LoadWorkerData;
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: 10_000 });
  const samples: LoadSample[] = [];
  let running = true;
  const loops = Array.from({ length: connections }, async () => {
    while (running) samples.push(await one(pool));
  });
  port.on("message", (message: unknown) => {
    if (message !== "stop") return;
    running = false;
    void Promise.all(loops)
      .then(() => pool.close())
      .then(() => port.postMessage({ samples }));
  });
  port.postMessage("ready");
}
