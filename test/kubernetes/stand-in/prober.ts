/**
 * The kubelet's probes of one container, as pkg/kubelet/prober/worker.go runs them (Probe in [CORE]; the
 * rules: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes):
 *
 * - a startup probe, if there is one, runs first; until it succeeds the container is not `started` and the
 *   other probes do not run; failureThreshold failures in a row kill the container;
 * - the startup probe starts as Unknown, the readiness probe as Failure (it decides `ready`), the liveness
 *   probe as Success; failureThreshold liveness failures in a row kill the container;
 * - a result flips only after successThreshold successes or failureThreshold failures in a row (defaults
 *   1 and 3); the first probe runs after initialDelaySeconds, then one every periodSeconds (default 10);
 * - once the pod is being deleted, only the readiness probe goes on;
 * - httpGet succeeds on a status from 200 to 399 (User-Agent kube-probe/1.33), tcpSocket when the
 *   connection opens; a probe that does not answer within timeoutSeconds (default 1) fails.
 *
 * Time runs fast: one second of initialDelaySeconds and periodSeconds lasts `secondMs`; timeoutSeconds
 * stays in real seconds, so a loaded machine does not fail probes. Not copied: exec and grpc probes (they
 * pass), httpGet's scheme HTTPS and host.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { isObject, type JsonObject, num, str } from "./json.js";
import type { LoopbackAddress } from "./pod-network.js";

/** Where a probe of `port` (a number or a container port's name) connects; null: nothing listens. */
export type ProbeTarget = (port: number | string) => LoopbackAddress | null;

export interface ContainerProbesOptions {
  readonly container: JsonObject;
  readonly target: ProbeTarget;
  readonly secondMs: number;
  /** The startup or liveness probe failed: the kubelet kills the container. */
  readonly onFailed: (probe: "startup" | "liveness") => void;
}

export class ContainerProbes {
  readonly #o: ContainerProbesOptions;
  readonly #startup: Prober | null;
  readonly #readiness: Prober | null;
  readonly #liveness: Prober | null;
  #started = false;

  constructor(options: ContainerProbesOptions) {
    this.#o = options;
    const spec = (key: string) => (isObject(options.container[key]) ? options.container[key] : null);
    const make = (probe: JsonObject | null, initial: boolean | null, onResult: (ok: boolean) => void) =>
      probe
        ? new Prober(probe, { initial, target: options.target, secondMs: options.secondMs, onResult })
        : null;
    this.#startup = make(spec("startupProbe"), null, (ok) => (ok ? this.#startAll() : this.#fail("startup")));
    this.#readiness = make(spec("readinessProbe"), false, () => {});
    this.#liveness = make(spec("livenessProbe"), true, (ok) => (ok ? undefined : this.#fail("liveness")));
    if (this.#startup) this.#startup.start();
    else this.#startAll();
  }

  get started(): boolean {
    return this.#started;
  }

  get ready(): boolean {
    return this.#started && (this.#readiness ? this.#readiness.ok : true);
  }

  stop(): void {
    for (const prober of [this.#startup, this.#readiness, this.#liveness]) prober?.stop();
  }

  /** The pod is being deleted: startup and liveness probes stop (a quiet shutdown); readiness goes on. */
  podTerminating(): void {
    this.#startup?.stop();
    this.#liveness?.stop();
  }

  #startAll(): void {
    this.#startup?.stop();
    this.#started = true;
    this.#readiness?.start();
    this.#liveness?.start();
  }

  #fail(probe: "startup" | "liveness"): void {
    this.stop();
    this.#o.onFailed(probe);
  }
}

interface ProberOptions {
  /** The result before the first one counts: null is Unknown (a startup probe's). */
  readonly initial: boolean | null;
  readonly target: ProbeTarget;
  readonly secondMs: number;
  readonly onResult: (ok: boolean) => void;
}

/** One probe: a result that flips after successThreshold / failureThreshold outcomes in a row. */
class Prober {
  readonly #spec: JsonObject;
  readonly #o: ProberOptions;
  #result: boolean | null;
  #last: boolean | null = null;
  #run = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(spec: JsonObject, options: ProberOptions) {
    this.#spec = spec;
    this.#o = options;
    this.#result = options.initial;
  }

  get ok(): boolean {
    return this.#result === true;
  }

  start(): void {
    this.#schedule((num(this.#spec.initialDelaySeconds) ?? 0) * this.#o.secondMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), ms);
  }

  async #probe(): Promise<void> {
    const outcome = await runProbe(this.#spec, this.#o.target);
    if (this.#stopped) return;
    this.#run = outcome === this.#last ? this.#run + 1 : 1;
    this.#last = outcome;
    const threshold = outcome ? "successThreshold" : "failureThreshold";
    const needed = num(this.#spec[threshold]) ?? (outcome ? 1 : 3);
    if (this.#run >= needed && outcome !== this.#result) {
      this.#result = outcome;
      this.#o.onResult(outcome);
    }
    this.#schedule((num(this.#spec.periodSeconds) ?? 10) * this.#o.secondMs);
  }
}

async function runProbe(spec: JsonObject, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (num(spec.timeoutSeconds) ?? 1) * 1000;
  const action = isObject(spec.httpGet) ? spec.httpGet : isObject(spec.tcpSocket) ? spec.tcpSocket : null;
  if (!action) return true; // exec and grpc probes are not run
  const port = typeof action.port === "number" || typeof action.port === "string" ? action.port : 0;
  const address = target(port);
  if (!address) return false;
  if (isObject(spec.httpGet)) return httpGet(address, spec.httpGet, timeoutMs);
  return tcpOpens(address, timeoutMs);
}

function httpGet(address: LoopbackAddress, action: JsonObject, timeoutMs: number): Promise<boolean> {
  const headers: Record<string, string> = { "user-agent": "kube-probe/1.33", accept: "*/*" };
  for (const h of Array.isArray(action.httpHeaders) ? action.httpHeaders : [])
    if (isObject(h) && str(h.name)) headers[String(h.name).toLowerCase()] = String(h.value ?? "");
  return new Promise((resolve) => {
    const req = request(
      { ...address, path: str(action.path) ?? "/", headers, agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

function tcpOpens(address: LoopbackAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ ...address, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => socket.destroy());
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}
