import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api, type V1Lease, type V1LeaseSpec, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { formatDuration } from "../../duration.js";
import { CutoverError } from "../../errors.js";
import { apiMessage, isConflict, isNotFound, type KubeClients } from "./kube-clients.js";

/** How long a lease lasts and how often it is renewed; the names and defaults are client-go's leaderelection. */
export interface LeaseTimings {
  /** Candidates wait this long after they last saw the lease change before they take it (LeaseDuration). */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long steps down (RenewDeadline); less than leaseDurationMs. */
  readonly renewDeadlineMs: number;
  /** Between two tries to acquire or renew (RetryPeriod). */
  readonly retryPeriodMs: number;
}

export const CLIENT_GO_TIMINGS: LeaseTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor: a candidate waits retryPeriod × (1 + rand × 1.2) between tries to acquire. */
const JITTER = 1.2;

/** Timings client-go would refuse (leaderelection.NewLeaderElector), refused the same way. */
export class LeaseTimingsError extends CutoverError {
  constructor(problem: string) {
    super(
      "LEASE_TIMINGS",
      `${problem}; for example --lease-duration 15s --renew-deadline 10s --retry-period 2s`,
    );
    this.name = "LeaseTimingsError";
  }
}

export function checkTimings(t: LeaseTimings): void {
  const f = formatDuration;
  if (t.retryPeriodMs <= 0) throw new LeaseTimingsError("the retry period must be more than 0");
  if (t.leaseDurationMs <= t.renewDeadlineMs)
    throw new LeaseTimingsError(
      `the lease duration (${f(t.leaseDurationMs)}) must be longer than the renew deadline (${f(t.renewDeadlineMs)})`,
    );
  if (t.renewDeadlineMs <= JITTER * t.retryPeriodMs)
    throw new LeaseTimingsError(
      `the renew deadline (${f(t.renewDeadlineMs)}) must be longer than ${JITTER} × the retry period (${f(t.retryPeriodMs)})`,
    );
}

export interface LeaderElectorOptions {
  readonly clients: KubeClients;
  /** The Lease's name, in the clients' namespace. */
  readonly lease: string;
  /** Who this candidate is: unique among candidates (a pod name and a random suffix). */
  readonly identity: string;
  readonly timings: LeaseTimings;
  readonly logger: Logger;
}

/** Runs while this candidate leads; resolves once its work has stopped after `leading` was aborted. */
export type LeadingWork = (leading: AbortSignal) => Promise<void>;

/**
 * Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire
 * when the Lease is missing, released (no holder) or expired, where expired means not changed for its
 * leaseDurationSeconds as this candidate observed it on its own clock (never by comparing clocks); renew
 * every retry period; step down when a renewal did not get through within the renew deadline; every write
 * is a PUT with the resourceVersion read, so two candidates never both win (the loser gets 409 and tries
 * again later). On stop the leader releases the Lease (ReleaseOnCancel): no holder, 1 s, so a standby
 * takes over at its next try instead of after the lease duration.
 */
export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #api: CoordinationV1Api;
  /** The Lease as last read or written, and when (this process's clock) its record last changed. */
  #observed: V1Lease | null = null;
  #observedAt = 0;
  #leading = false;

  constructor(options: LeaderElectorOptions) {
    checkTimings(options.timings);
    this.#o = options;
    this.#api = options.clients.config.makeApiClient(CoordinationV1Api);
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Competes for the Lease until `stop` aborts; runs `work` each time this candidate becomes the leader. */
  async run(stop: AbortSignal, work: LeadingWork): Promise<void> {
    while (await this.#acquire(stop)) {
      const leading = new AbortController();
      this.#leading = true;
      this.#o.logger.info({ lease: this.#o.lease, identity: this.#o.identity }, "became the leader");
      const working = work(leading.signal);
      const lost = await this.#keepRenewing(stop);
      this.#leading = false;
      leading.abort();
      await working;
      if (!lost) {
        await this.#release();
        return;
      }
      this.#o.logger.warn(
        { lease: this.#o.lease, holder: this.#holder() },
        "lost the lease: stepped down, competing for it again",
      );
    }
  }

  /** Tries until it holds the Lease (true) or `stop` aborts (false). */
  async #acquire(stop: AbortSignal): Promise<boolean> {
    let waiting = false;
    while (!stop.aborted) {
      if (await this.#try()) return true;
      if (!waiting) {
        this.#o.logger.info(
          { lease: this.#o.lease, holder: this.#holder() },
          "standing by: another holds the lease",
        );
        waiting = true;
      }
      const pause = this.#o.timings.retryPeriodMs * (1 + Math.random() * JITTER);
      if (!(await pauseUnlessStopped(pause, stop))) return false;
    }
    return false;
  }

  /** Renews every retry period; returns true when leadership was lost, false when `stop` aborted. */
  async #keepRenewing(stop: AbortSignal): Promise<boolean> {
    const { retryPeriodMs, renewDeadlineMs } = this.#o.timings;
    for (;;) {
      if (!(await pauseUnlessStopped(retryPeriodMs, stop))) return false;
      const deadline = Date.now() + renewDeadlineMs;
      let renewed = await this.#try(deadline);
      while (!renewed && Date.now() < deadline && !stop.aborted) {
        if (!(await pauseUnlessStopped(Math.min(retryPeriodMs, deadline - Date.now()), stop))) return false;
        renewed = await this.#try(deadline);
      }
      if (stop.aborted) return false;
      if (!renewed) return true;
    }
  }

  /** One tryAcquireOrRenew, given up (as failed) at `deadline`; an API failure is a failed try. */
  async #try(deadline = Date.now() + this.#o.timings.renewDeadlineMs): Promise<boolean> {
    const timeout = new AbortController();
    const timer = sleep(Math.max(0, deadline - Date.now()), false, { signal: timeout.signal }).catch(
      () => false,
    );
    try {
      return await Promise.race([this.#tryAcquireOrRenew(), timer]);
    } catch (error) {
      this.#o.logger.warn(
        { lease: this.#o.lease, err: apiMessage(error) },
        "could not read or write the lease",
      );
      return false;
    } finally {
      timeout.abort();
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { lease: name, clients } = this.#o;
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace: clients.namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return this.#write(null, this.#spec(null));
    }
    this.#observe(lease);
    const spec = lease.spec ?? {};
    const expiresAt = this.#observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (spec.holderIdentity && spec.holderIdentity !== this.#o.identity && expiresAt > Date.now())
      return false;
    return this.#write(lease, this.#spec(lease));
  }

  /** The record this candidate writes to take or keep the Lease. */
  #spec(lease: V1Lease | null): V1LeaseSpec {
    const spec = lease?.spec ?? {};
    const now = new V1MicroTime();
    const mine = spec.holderIdentity === this.#o.identity;
    return {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#o.timings.leaseDurationMs / 1000)),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
      renewTime: now,
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? -1) + 1,
    };
  }

  /** Creates the Lease (none yet) or replaces it with the resourceVersion read; false when another won. */
  async #write(lease: V1Lease | null, spec: V1LeaseSpec): Promise<boolean> {
    const { lease: name, clients } = this.#o;
    const namespace = clients.namespace;
    try {
      const written = lease
        ? await this.#api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } })
        : await this.#api.createNamespacedLease({
            namespace,
            body: {
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name, namespace },
              spec,
            },
          });
      this.#observe(written);
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // another candidate wrote first (409 Conflict or AlreadyExists)
      throw error;
    }
  }

  /** Client-go's release: no holder, 1 s, so a standby takes over at its next try. */
  async #release(): Promise<void> {
    const lease = this.#observed;
    if (!lease || lease.spec?.holderIdentity !== this.#o.identity) return;
    const now = new V1MicroTime();
    const spec: V1LeaseSpec = {
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    };
    try {
      await this.#write(lease, spec);
      this.#o.logger.info({ lease: this.#o.lease }, "released the lease");
    } catch (error) {
      this.#o.logger.warn(
        { lease: this.#o.lease, err: apiMessage(error) },
        "could not release the lease; a standby takes over once it expires",
      );
    }
  }

  #observe(lease: V1Lease): void {
    if (recordOf(lease) !== (this.#observed ? recordOf(this.#observed) : null)) this.#observedAt = Date.now();
    this.#observed = lease;
  }

  #holder(): string | null {
    return this.#observed?.spec?.holderIdentity ?? null;
  }
}

/** The leader record as client-go compares it: a change of any field restarts the candidate's clock. */
function recordOf(lease: V1Lease): string {
  const s = lease.spec ?? {};
  const time = (t: unknown) =>
    t === undefined || t === null ? null : String(t instanceof Date ? t.toISOString() : t);
  return JSON.stringify([
    s.holderIdentity ?? null,
    s.leaseDurationSeconds ?? null,
    time(s.acquireTime),
    time(s.renewTime),
    s.leaseTransitions ?? null,
  ]);
}

/** Waits `ms`; false when `stop` aborted first. */
async function pauseUnlessStopped(ms: number, stop: AbortSignal): Promise<boolean> {
  if (stop.aborted) return false;
  try {
    await sleep(ms, undefined, { signal: stop });
    return true;
  } catch {
    return false;
  }
}
