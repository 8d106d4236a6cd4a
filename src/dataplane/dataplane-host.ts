import { randomBytes } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import {
  createMessageConnection,
  type MessageConnection,
  ResponseError,
  SocketMessageReader,
  SocketMessageWriter,
} from "vscode-jsonrpc/node.js";
import type { MirrorSwitch } from "../analysis/cutover-analysis.js";
import { cutoverBuild } from "../build.js";
import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFileAtomic } from "../engine/atomic-write.js";
import { CutoverError } from "../errors.js";
import type { DataPlane } from "../router/data-plane.js";
import { controlSocketPath, routerSettingsHash } from "./dataplane-files.js";
import {
  DATAPLANE_FILE,
  type DataPlaneInfo,
  M,
  PROTOCOL,
  type RouterSnapshot,
  type RunStart,
  type SetEndpoints,
} from "./protocol.js";
import { RunTable } from "./run-table.js";

export interface DataPlaneHostOptions {
  readonly loaded: LoadedConfig;
  readonly dataPlane: DataPlane;
  readonly logger: Logger;
  /** Stop everything once no daemon has been attached for this long; null: never. */
  readonly orphanTimeoutMs: number | null;
  /** Called once everything has stopped (after `shutdown`, SIGTERM or the orphan timeout). */
  readonly onStopped: () => void;
}

/** A CutoverError's code travels in the error's data, so the daemon can throw the same error again. */
const failure = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return new ResponseError(1, message, { code: typeof code === "string" ? code : "DATAPLANE_FAILED" });
};

/**
 * The data plane process: the router (or HAProxy) and the replicas' runs, driven over a control socket by
 * whichever daemon is attached, and kept running while none is. One daemon is attached at a time.
 */
export class DataPlaneHost {
  readonly #o: DataPlaneHostOptions;
  readonly #runs: RunTable;
  readonly #server: Server;
  readonly #log: Logger;
  readonly #nonce = randomBytes(16).toString("hex");
  readonly #startedAt = new Date().toISOString();
  #attached: MessageConnection | null = null;
  #orphanTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | null = null;
  #socketPath = "";

  constructor(options: DataPlaneHostOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "dataplane" });
    this.#runs = new RunTable(this.#log);
    this.#server = createServer((socket) => this.#connection(socket));
  }

  get info(): DataPlaneInfo {
    const dp = this.#o.dataPlane;
    return {
      protocol: PROTOCOL,
      pid: process.pid,
      nonce: this.#nonce,
      socket: this.#socketPath,
      stateDir: this.#o.loaded.stateDir,
      startedAt: this.#startedAt,
      build: cutoverBuild().id,
      kind: this.#o.loaded.config.router.dataPlane,
      listen: dp.address(),
      preview: dp.previewAddress(),
      metricsContentType: dp.metricsContentType,
      routerSettings: routerSettingsHash(this.#o.loaded.config.router),
    };
  }

  /** Starts the data plane and the control socket, then writes dataplane.json. */
  async start(): Promise<void> {
    await this.#o.dataPlane.start();
    this.#socketPath = controlSocketPath(this.#o.loaded.stateDir);
    rmSync(this.#socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#socketPath, () => resolve());
    });
    chmodSync(this.#socketPath, 0o600);
    writeFileAtomic(join(this.#o.loaded.stateDir, DATAPLANE_FILE), `${JSON.stringify(this.info, null, 2)}\n`);
    this.#log.info({ socket: this.#socketPath, listen: this.info.listen }, "data plane serving");
    this.#orphaned();
  }

  /** Stops the replicas, then the data plane, and removes the files; once. */
  stop(why: string): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info({ why }, "stopping the replicas and the data plane");
      clearTimeout(this.#orphanTimer);
      await this.#runs.stopAll();
      await this.#o.dataPlane.close().catch((error) => this.#log.error({ error }, "data plane close"));
      this.#server.close();
      rmSync(join(this.#o.loaded.stateDir, DATAPLANE_FILE), { force: true });
      rmSync(this.#socketPath, { force: true });
      this.#log.info("stopped");
      this.#o.onStopped();
    })();
    return this.#stopping;
  }

  #connection(socket: Socket): void {
    const connection = createMessageConnection(
      new SocketMessageReader(socket),
      new SocketMessageWriter(socket),
    );
    socket.on("error", () => {});
    connection.onClose(() => this.#detached(connection));
    this.#handle(connection);
    connection.listen();
  }

  #detached(connection: MessageConnection): void {
    connection.dispose();
    if (this.#attached !== connection) return;
    this.#attached = null;
    this.#runs.tell(null);
    this.#log.warn("the daemon detached; serving on without it");
    this.#orphaned();
  }

  /** Without a daemon: serve on, or stop after orphanTimeout. */
  #orphaned(): void {
    const timeout = this.#o.orphanTimeoutMs;
    clearTimeout(this.#orphanTimer);
    if (timeout === null || this.#attached !== null) return;
    this.#orphanTimer = setTimeout(() => {
      if (this.#attached === null)
        void this.stop(`no daemon attached for ${timeout} ms (router.orphanTimeout)`);
    }, timeout);
  }

  #attach(connection: MessageConnection): DataPlaneInfo {
    if (this.#attached !== null && this.#attached !== connection)
      throw new CutoverError(
        "DATAPLANE_ATTACHED",
        "another daemon is attached to this data plane process; a second one cannot drive it. Stop that daemon (its pid is in .cutover/daemon.json), or use it",
      );
    this.#attached = connection;
    clearTimeout(this.#orphanTimer);
    this.#runs.tell({
      pid: (key, pid) => void connection.sendNotification(M.runPid, { key, pid }),
      exit: (key, exit) => void connection.sendNotification(M.runExit, { key, exit }),
    });
    this.#log.info("a daemon attached");
    return this.info;
  }

  #handle(c: MessageConnection): void {
    const dp = this.#o.dataPlane;
    const on = <P, R>(method: string, handler: (params: P) => R | Promise<R>) =>
      c.onRequest(method, async (params: P) => {
        try {
          return await handler(params);
        } catch (error) {
          throw failure(error);
        }
      });
    const hold = () => {
      if (dp.requestHold === null)
        throw new CutoverError("HOLD_UNSUPPORTED", "this data plane cannot hold requests");
      return dp.requestHold;
    };
    on(M.hello, () => this.info);
    on(M.attach, () => this.#attach(c));
    on(M.shutdown, () => {
      setImmediate(() => void this.stop("asked to shut down"));
      return null;
    });
    // Endpoints and mirroring are notifications: applied in the order sent, before any later request.
    c.onNotification(M.setEndpoints, (p: SetEndpoints) => dp.setEndpoints(p.colour, p.endpoints));
    c.onNotification(M.setMirror, (p: { options: Parameters<MirrorSwitch["setMirror"]>[0] }) => {
      if ("setMirror" in dp) (dp as DataPlane & MirrorSwitch).setMirror(p.options);
    });
    on(M.switchTo, (p: { colour: Colour }) => dp.switchTo(p.colour));
    on(M.drain, (p: { colour: Colour; timeoutMs: number }) => dp.drain(p.colour, p.timeoutMs));
    on(M.settled, async () => {
      await dp.settled?.();
      return null;
    });
    on(M.snapshot, async () => {
      await dp.refresh?.();
      return this.#snapshot();
    });
    on(M.metrics, () => dp.metrics());
    on(M.hold, async (p: { timeoutMs: number; reason: string }) => {
      const h = hold();
      await h.hold(p.timeoutMs, p.reason);
      void h.released().then((result) => {
        if (result?.timedOut) void c.sendNotification(M.holdReleased, result);
      });
      return h.holding();
    });
    on(M.release, () => hold().release());
    on(M.quiet, (p: { colour: Colour; timeoutMs: number }) => hold().quiet(p.colour, p.timeoutMs));
    on(M.runStart, (p: RunStart) => {
      this.#runs.start(p);
      return null;
    });
    on(M.runTerminate, (p: { key: string }) => this.#runs.terminate(p.key));
    on(M.runList, () => this.#runs.list());
    on(M.runForget, (p: { key: string }) => {
      this.#runs.forget(p.key);
      return null;
    });
  }

  #snapshot(): RouterSnapshot {
    const dp = this.#o.dataPlane;
    return {
      active: dp.active,
      inFlight: { blue: dp.inFlight("blue"), green: dp.inFlight("green") },
      hold: dp.requestHold?.holding() ?? null,
      endpoints: { blue: dp.inRotation("blue"), green: dp.inRotation("green") },
    };
  }
}
