import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { Colour } from "../src/colour.js";
import type { LoadSample, LoadWorkerData } from "./switch-load-worker.js";

export interface SwitchDrillOptions {
  readonly url: string;
  /** Keep-alive connections, each sending its next request when the last one answered. */
  readonly connections: number;
  /** Load before the switch, then after it. */
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly from: Colour;
  readonly to: Colour;
  /** Issues the switch; resolves when the proxy's own command returned. */
  readonly switchTo: (colour: Colour) => Promise<void>;
}

/** One switch under load, every request accounted for. Times are in ms from the moment the switch was issued. */
export interface SwitchDrillResult {
  readonly from: Colour;
  readonly to: Colour;
  readonly requests: number;
  /** Requests without a 2xx answer from either colour: connection errors, resets, 5xx. */
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  /** Until the switch command returned. */
  readonly commandMs: number;
  /** The first answer from the new colour arrived. */
  readonly firstNewMs: number | null;
  /** The last answer from the old colour arrived (negative: none arrived after the switch was issued). */
  readonly lastOldMs: number | null;
  /**
   * Answers from the old colour to requests sent after the first answer from the new colour had arrived:
   * connections that still reached the old colour although the switch had visibly happened.
   */
  readonly oldAfterFirstNew: number;
}

const msSince = (t0: bigint, t: bigint) => Number(t - t0) / 1e6;

/**
 * A switch under closed-loop load: which colour answered each request (the demo app's x-app-environment
 * header) and when, and every request that failed.
 */
export async function runSwitchDrill(o: SwitchDrillOptions): Promise<SwitchDrillResult> {
  const data: LoadWorkerData = { url: o.url, connections: o.connections };
  const worker = new Worker(new URL("./switch-load-worker.js", import.meta.url), { workerData: data });
  try {
    await message(worker, (m) => m === "ready");
    await sleep(o.beforeMs);
    const t0 = process.hrtime.bigint();
    await o.switchTo(o.to);
    const commandMs = msSince(t0, process.hrtime.bigint());
    await sleep(o.afterMs);
    worker.postMessage("stop");
    const { samples } = (await message(worker, (m) => typeof m === "object" && m !== null)) as {
      samples: LoadSample[];
    };
    return summarise(o, t0, commandMs, samples);
  } finally {
    await worker.terminate();
  }
}

/** The next message from `worker` that `wanted` accepts; rejects if the worker fails first. */
function message(worker: Worker, wanted: (m: unknown) => boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!wanted(m)) return;
      worker.off("message", onMessage);
      resolve(m);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
}

function summarise(
  o: SwitchDrillOptions,
  t0: bigint,
  commandMs: number,
  samples: readonly LoadSample[],
): SwitchDrillResult {
  const errorKinds: Record<string, number> = {};
  let firstNew: bigint | null = null;
  let lastOld: bigint | null = null;
  for (const sample of samples) {
    if (sample.error !== null) errorKinds[sample.error] = (errorKinds[sample.error] ?? 0) + 1;
    if (
      sample.colour === o.to &&
      sample.receivedNs >= t0 &&
      (firstNew === null || sample.receivedNs < firstNew)
    )
      firstNew = sample.receivedNs;
    if (sample.colour === o.from && (lastOld === null || sample.receivedNs > lastOld))
      lastOld = sample.receivedNs;
  }
  const oldAfterFirstNew =
    firstNew === null
      ? 0
      : samples.filter((s) => s.colour === o.from && s.sentNs > (firstNew as bigint)).length;
  return {
    from: o.from,
    to: o.to,
    requests: samples.length,
    errors: Object.values(errorKinds).reduce((sum, n) => sum + n, 0),
    errorKinds,
    commandMs,
    firstNewMs: firstNew === null ? null : msSince(t0, firstNew),
    lastOldMs: lastOld === null ? null : msSince(t0, lastOld),
    oldAfterFirstNew,
  };
}
