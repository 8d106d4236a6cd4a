import type { Agent } from "node:http";
import type { HealthConfig, RouterConfig } from "../../config/schema.js";
import { formatDuration } from "../../duration.js";
import { probeGrpcHealth } from "./grpc-health-probe.js";
import { type ProbeResult, probeHealth } from "./health-probe.js";

/** What a health checker tells its replica. */
export interface HealthListener {
  /** Readiness changed: in rotation or out of it. */
  readinessChanged(ready: boolean): void;
  /** A check failed; `problem` says how. */
  checkFailed(problem: string): void;
  /** The startup or liveness probe failed: the replica should be restarted. */
  restartNeeded(problem: string): void;
}

export interface HealthCheckerOptions {
  readonly health: HealthConfig;
  readonly host: string;
  readonly port: number;
  /** Keeps each replica's connection between checks; without one, a connection per check. */
  readonly agent?: Agent | undefined;
  readonly listener: HealthListener;
  /** What the replica speaks (router.upstreamProtocol): GET health.path goes over h2c to h2c replicas. */
  readonly protocol?: RouterConfig["upstreamProtocol"] | undefined;
}

/**
 * Probes one run of one replica with the semantics of Kubernetes probes: a startup probe (a first pass
 * within startupGrace, else restart), then readiness (successThreshold passes in, failureThreshold
 * failures out) and liveness (restartAfterFailures failures, then restart).
 */
export class HealthChecker {
  readonly #options: HealthCheckerOptions;
  #started = false;
  #ready = false;
  #passes = 0;
  #failures = 0;
  #lastProblem = "no health check has answered yet";
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(options: HealthCheckerOptions) {
    this.#options = options;
  }

  /**
   * Probes a run that was already checked by an earlier daemon (adopted from the data plane process): no
   * startup probe, and in rotation from the start when it was in rotation then.
   */
  resume(ready: boolean): void {
    this.#started = true;
    this.#ready = ready;
    void this.#check();
  }

  start(): void {
    const grace = this.#options.health.startupGrace;
    this.#graceTimer = setTimeout(() => this.#graceExpired(), grace);
    void this.#check();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#graceTimer);
  }

  async #check(): Promise<void> {
    const began = Date.now();
    const { health, host, port, protocol, agent } = this.#options;
    const timeoutMs = health.timeout;
    const result = health.grpc
      ? await probeGrpcHealth({ host, port, service: health.grpc.service, timeoutMs })
      : await probeHealth({ host, port, path: health.path, timeoutMs, protocol, agent });
    if (this.#stopped) return;
    this.#record(result);
    if (this.#stopped) return;
    const wait = Math.max(0, health.interval - (Date.now() - began));
    this.#timer = setTimeout(() => void this.#check(), wait);
  }

  #record(result: ProbeResult): void {
    if (result.ok) this.#passed();
    else this.#failed(result.problem);
  }

  #passed(): void {
    this.#passes++;
    this.#failures = 0;
    if (!this.#started) clearTimeout(this.#graceTimer);
    this.#started = true;
    if (!this.#ready && this.#passes >= this.#options.health.successThreshold) this.#setReady(true);
  }

  #failed(problem: string): void {
    const { failureThreshold, restartAfterFailures } = this.#options.health;
    this.#failures++;
    this.#passes = 0;
    this.#lastProblem = problem;
    this.#options.listener.checkFailed(problem);
    if (!this.#started) return;
    if (this.#ready && this.#failures >= failureThreshold) this.#setReady(false);
    if (restartAfterFailures > 0 && this.#failures >= restartAfterFailures) {
      this.#options.listener.restartNeeded(
        `${this.#failures} health checks failed in a row (last: ${problem})`,
      );
    }
  }

  #setReady(ready: boolean): void {
    this.#ready = ready;
    this.#options.listener.readinessChanged(ready);
  }

  #graceExpired(): void {
    if (this.#stopped || this.#started) return;
    const grace = this.#options.health.startupGrace;
    this.#options.listener.restartNeeded(
      `no health check passed within ${formatDuration(grace)} of start (last: ${this.#lastProblem})`,
    );
  }
}
