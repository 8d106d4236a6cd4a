import type { IncomingMessage } from "node:http";
import type { LoadedConfig } from "../../config/load.js";
import { AdminClient, ndjsonLines } from "../../control/admin-client.js";
import type { ControlPlane } from "../../control/control-plane.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { CutoverError, DaemonNotRunningError } from "../../errors.js";

/** What `status --watch` and `wait` hear: a whole status, a deploy's record, or "the colours changed". */
export type FeedEvent =
  | { readonly type: "status"; readonly status: ServiceStatus }
  | { readonly type: "deploy"; readonly record: DeployRecord }
  | { readonly type: "colours" };

/** How often the cluster is read on a platform without a daemon (Kubernetes), where nothing streams events. */
export const POLL_MS = 2_000;
/** How often the daemon's status is read besides its events, for replica states that change without one. */
const REPLICA_CHECK_MS = 1_000;

/**
 * The service's changes as they happen: on the local platform the daemon's event stream (`GET /events`, a
 * status first, then engine events), which ends when the daemon goes away; on Kubernetes the status read
 * from the cluster every POLL_MS. Ends early when `signal` aborts.
 */
export async function* statusFeed(
  loaded: LoadedConfig,
  control: ControlPlane,
  signal: AbortSignal,
): AsyncGenerator<FeedEvent> {
  if (loaded.config.platform === "kubernetes") {
    while (!signal.aborted) {
      yield { type: "status", status: await control.status() };
      await sleep(POLL_MS, signal);
    }
    return;
  }
  yield* daemonEvents(loaded, signal);
}

async function* daemonEvents(loaded: LoadedConfig, signal: AbortSignal): AsyncGenerator<FeedEvent> {
  const client = AdminClient.forConfig(loaded);
  // Closed when the caller aborts, or stops reading (else the open stream would keep this process alive).
  const connection = new AbortController();
  const close = () => connection.abort();
  signal.addEventListener("abort", close, { once: true });
  let answer: IncomingMessage;
  try {
    answer = await client.open("/events", connection.signal);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof CutoverError && !(error instanceof DaemonNotRunningError))
      throw new DaemonNotRunningError(`${client.base}/events answered: ${error.message}`);
    throw error;
  }
  // The stream's events, and a "colours" tick every REPLICA_CHECK_MS: a replica's state (starting, ready,
  // restarted) changes without an engine event, so the caller reads the status then too.
  const queue: (FeedEvent | null)[] = [];
  let wake: (() => void) | null = null;
  const push = (event: FeedEvent | null) => {
    queue.push(event);
    wake?.();
  };
  const tick = setInterval(() => {
    if (queue.length === 0) push({ type: "colours" });
  }, REPLICA_CHECK_MS);
  void readLines(answer, (line) => push(JSON.parse(line) as FeedEvent)).then(() => push(null));
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const event = queue.shift();
      if (!event) return;
      yield event;
    }
  } finally {
    clearInterval(tick);
    signal.removeEventListener("abort", close);
    close();
  }
}

/** Calls `onLine` with each line of an NDJSON body; resolves when it ends, or breaks (the daemon went away). */
async function readLines(answer: IncomingMessage, onLine: (line: string) => void): Promise<void> {
  try {
    for await (const line of ndjsonLines(answer)) onLine(line);
  } catch {
    // Aborted by the caller, or the connection broke (the daemon went away): the feed ends either way.
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
