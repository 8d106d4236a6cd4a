/**
 * A Platform fake for the engine's tests (model-based and step-by-step): replicas are small HTTP servers in this process
 * (real sockets the real Router proxies to) instead of supervised child processes, so that hundreds of random
 * runs fit in seconds. It keeps the interface's documented behaviour: start() resolves once the replicas are
 * spawned (listening), not once they are ready; a replica becomes ready after a start-up delay unless its
 * version is one that fails its health check; waitReady() resolves when every replica is ready and rejects
 * at the timeout, on abort, or when the colour runs nothing; onEndpoints() tells about every change of the
 * ready set; stop() closes the replicas' sockets. Versions say how they behave: "bad-*" never becomes ready,
 * "slow-*" takes SLOW_MS, "nostart-*" cannot be started (start() rejects, as a spawn that fails does, with
 * nothing left running on that colour), others take FAST_MS.
 *
 * Not modelled: restarts of a crashed replica (a replica never crashes by itself), readiness flapping,
 * the grace period of stop() (a replica's sockets close at once), and the environment passed to start().
 *
 * freeze() models the death of the daemon's process: every replica goes away at once and the platform never
 * answers again (its calls hang), so an engine that was dropped mid-step can do nothing more.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { COLOURS, type Colour } from "../../src/colour.js";
import type {
  ColourStatus,
  Endpoint,
  Platform,
  ReplicaStatus,
  WaitReadyOptions,
} from "../../src/engine/ports/platform.js";
import { CutoverError } from "../../src/errors.js";
import { waitUntil } from "../../src/platforms/local/wait-until.js";

export const FAST_MS = 2;
export const SLOW_MS = 25;

interface FakeReplica {
  readonly id: string;
  readonly index: number;
  readonly server: Server;
  readonly port: number;
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface Deployment {
  readonly version: string;
  readonly replicas: FakeReplica[];
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class InMemoryPlatform implements Platform {
  readonly #deployments = new Map<Colour, Deployment>();
  readonly #endpointListeners = new Set<(colour: Colour, endpoints: readonly Endpoint[]) => void>();
  readonly #changes = new Set<() => void>();
  #frozen = false;
  #failNextStart: Error | null = null;

  /** The next start() rejects with `error` once the colour's old replicas are stopped (a spawn that fails). */
  failNextStart(error: Error): void {
    this.#failNextStart = error;
  }

  async start(colour: Colour, version: string, replicas: number): Promise<void> {
    if (this.#frozen) return never();
    await this.stop(colour);
    const failure = this.#failNextStart;
    this.#failNextStart = null;
    if (failure) throw failure;
    if (version.startsWith("nostart-")) {
      throw new CutoverError(
        "NO_COMMAND",
        `could not start ${version} on ${colour}: the command was not found`,
      );
    }
    const deployment: Deployment = { version, replicas: [] };
    this.#deployments.set(colour, deployment);
    for (let index = 0; index < replicas; index += 1) {
      deployment.replicas.push(await this.#spawn(colour, version, index));
    }
    for (const replica of deployment.replicas) {
      if (version.startsWith("bad-")) continue;
      replica.timer = setTimeout(
        () => {
          if (this.#frozen || this.#deployments.get(colour) !== deployment) return;
          replica.ready = true;
          this.#changed(colour);
        },
        version.startsWith("slow-") ? SLOW_MS : FAST_MS,
      );
    }
    if (this.#frozen) return never();
  }

  waitReady(colour: Colour, options: WaitReadyOptions): Promise<void> {
    if (this.#frozen) return never();
    return waitUntil({
      ...options,
      done: () => {
        const replicas = this.#deployments.get(colour)?.replicas ?? [];
        return replicas.length > 0 && replicas.every((r) => r.ready);
      },
      hopeless: () => (this.#deployments.has(colour) ? undefined : "so there is nothing to wait for"),
      subscribe: (onChange) => {
        this.#changes.add(onChange);
        return () => this.#changes.delete(onChange);
      },
      failure: (reason) =>
        new CutoverError("REPLICAS_NOT_READY", `replicas of ${colour} not ready ${reason}`),
    });
  }

  async stop(colour: Colour): Promise<void> {
    if (this.#frozen) return never();
    const deployment = this.#deployments.get(colour);
    if (!deployment) return;
    this.#deployments.delete(colour);
    for (const replica of deployment.replicas) clearTimeout(replica.timer);
    this.#changed(colour);
    await Promise.all(deployment.replicas.map((r) => closeServer(r.server)));
  }

  status(colour: Colour): ColourStatus {
    const deployment = this.#deployments.get(colour);
    const replicas: ReplicaStatus[] =
      deployment?.replicas.map((r) => ({
        id: r.id,
        colour,
        index: r.index,
        version: deployment.version,
        host: "127.0.0.1",
        port: r.port,
        pid: process.pid,
        state: r.ready ? "ready" : "starting",
        ready: r.ready,
        restarts: 0,
        lastProblem: null,
        logFile: "/dev/null",
      })) ?? [];
    return { colour, version: deployment?.version ?? null, replicas };
  }

  onEndpoints(listener: (colour: Colour, endpoints: readonly Endpoint[]) => void): () => void {
    this.#endpointListeners.add(listener);
    return () => this.#endpointListeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const colour of COLOURS) await this.stop(colour);
  }

  /** The process died: every replica is gone at once, and nothing this platform does ever completes again. */
  freeze(): void {
    this.#frozen = true;
    for (const deployment of this.#deployments.values()) {
      for (const replica of deployment.replicas) {
        clearTimeout(replica.timer);
        replica.server.closeAllConnections();
        replica.server.close();
      }
    }
    this.#deployments.clear();
  }

  async #spawn(colour: Colour, version: string, index: number): Promise<FakeReplica> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "x-app-version": version, "x-app-environment": colour });
      res.end(version);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return { id: `${colour}-${index}`, index, server, port, ready: false, timer: undefined };
  }

  #changed(colour: Colour): void {
    if (this.#frozen) return;
    const replicas = this.#deployments.get(colour)?.replicas ?? [];
    const endpoints = replicas
      .filter((r) => r.ready)
      .map((r) => ({ id: r.id, host: "127.0.0.1", port: r.port }));
    for (const listener of this.#endpointListeners) listener(colour, endpoints);
    for (const change of [...this.#changes]) change();
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
