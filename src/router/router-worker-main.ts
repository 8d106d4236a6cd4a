/**
 * One router worker (router.workers > 1): a cluster worker of the data plane process, running the same
 * built-in router as a one-process data plane, on the same listeners (node:cluster shares them). It is driven
 * over its IPC channel by RouterWorkers (router-workers.ts) and exits when that channel closes: a worker never
 * outlives its data plane process.
 */
import { createLogger } from "../log.js";
import { createBuiltinRouter } from "./create-data-plane.js";
import type { Router } from "./router.js";
import type { FromWorker, ToWorker, WorkerCall } from "./router-worker-protocol.js";

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message);
};

// Every line goes to the data plane process, which writes it into its own log, marked with this worker.
const logger = createLogger({ to: { write: (line: string) => send({ t: "log", line: line.trimEnd() }) } });

let router: Router | null = null;

async function call(r: Router, c: WorkerCall): Promise<unknown> {
  switch (c.method) {
    case "switchTo":
      return r.switchTo(c.colour);
    case "drain":
      return r.drain(c.colour, c.timeoutMs);
    case "hold":
      return r.requestHold.hold(c.timeoutMs, c.reason);
    case "release":
      return c.timedOut ? r.requestHold.expire() : r.requestHold.release();
    case "quiet":
      return r.requestHold.quiet(c.colour, c.timeoutMs);
    case "metrics":
      return r.metricsJson();
    case "snapshot":
      return {
        inFlight: { blue: r.inFlight("blue"), green: r.inFlight("green") },
        held: r.requestHold.holding()?.held ?? 0,
        mirrorInFlight: r.mirrorInFlight(),
      };
    case "close":
      await r.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

function answer(id: number, c: WorkerCall, r: Router): void {
  call(r, c).then(
    (value) => send({ t: "reply", id, ok: true, value: value ?? null }),
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      send({
        t: "reply",
        id,
        ok: false,
        code: typeof code === "string" ? code : "ROUTER_WORKER_FAILED",
        message: error instanceof Error ? error.message : String(error),
      });
    },
  );
}

async function start(message: Extract<ToWorker, { t: "init" }>): Promise<void> {
  const { loaded, state } = message;
  const r = createBuiltinRouter(loaded, logger.child({ worker: message.worker }));
  router = r;
  r.setEndpoints("blue", state.endpoints.blue);
  r.setEndpoints("green", state.endpoints.green);
  r.switchTo(state.active);
  r.setMirror(state.mirror);
  if (state.hold !== null) r.requestHold.hold(Math.max(1, state.hold.remainingMs), state.hold.reason);
  try {
    await r.start();
    send({ t: "ready", listen: r.address(), preview: r.previewAddress() });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    send({
      t: "failed",
      code: typeof code === "string" ? code : "ROUTER_WORKER_FAILED",
      message: error instanceof Error ? error.message : String(error),
    });
    setImmediate(() => process.exit(1));
  }
}

process.on("message", (message: ToWorker) => {
  if (message.t === "init") return void start(message);
  const r = router;
  if (r === null) return; // nothing comes before init: the data plane process sends it first
  if (message.t === "setEndpoints") r.setEndpoints(message.colour, message.endpoints);
  else if (message.t === "setMirror") r.setMirror(message.options);
  else if (message.t === "call") answer(message.id, message.call, r);
});
// The data plane process is gone (or stopped us): the listeners it shared are gone with it.
process.on("disconnect", () => process.exit(0));
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
send({ t: "up" });
