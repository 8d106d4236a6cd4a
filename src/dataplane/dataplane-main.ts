/**
 * The data plane process: `node dataplane-main.js`, started detached by the daemon (in a session of its own,
 * so that neither the daemon's end nor a terminal's Ctrl-C reaches it) with an IPC channel that carries one
 * message, what to serve. It answers `ready` (or `failed`) on that channel, which the daemon then closes;
 * from there on it is driven over its control socket (dataplane-host.ts).
 */

import { join } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { RotatingLog } from "../process/rotating-log.js";
import { createDataPlane } from "../router/create-data-plane.js";
import { DataPlaneHost } from "./dataplane-host.js";
import { DATAPLANE_LOG } from "./protocol.js";

/** The one message the daemon sends on the IPC channel. */
export interface StartMessage {
  readonly type: "start";
  readonly loaded: LoadedConfig;
}

/** What this process answers on it. */
export type StartReply =
  | { readonly type: "ready" }
  | { readonly type: "failed"; code: string; message: string };

function logger(loaded: LoadedConfig) {
  const log = new RotatingLog(join(loaded.stateDir, DATAPLANE_LOG), {
    maxBytes: loaded.config.logs.maxSize,
    keep: loaded.config.logs.keep,
  });
  return createLogger({
    to: {
      write(line: string): void {
        try {
          log.write(line);
        } catch {
          // A full disk must not stop the traffic: the line is lost.
        }
      },
    },
  });
}

async function serve(message: StartMessage): Promise<void> {
  const { loaded } = message;
  const log = logger(loaded);
  const reply = (r: StartReply) => process.send?.(r, undefined, {}, () => {});
  let host: DataPlaneHost | null = null;
  const stop = (why: string) => void host?.stop(why);
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {});
  try {
    host = new DataPlaneHost({
      loaded,
      dataPlane: createDataPlane(loaded, log),
      logger: log,
      orphanTimeoutMs: loaded.config.router.orphanTimeout ?? null,
      onStopped: () => setImmediate(() => process.exit(0)),
    });
    await host.start();
    reply({ type: "ready" });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    log.error({ err: error }, "the data plane could not start");
    reply({
      type: "failed",
      code: typeof code === "string" ? code : "DATAPLANE_FAILED",
      message: error instanceof Error ? error.message : String(error),
    });
    setImmediate(() => process.exit(1));
  }
}

let asked = false;
process.once("message", (message: StartMessage) => {
  asked = true;
  void serve(message);
});
// The daemon closes the channel once it has the answer; closed before it asked anything, the daemon is gone.
process.on("disconnect", () => {
  if (!asked) process.exit(1);
});
