/**
 * The Traffic Manager stand-in's probing agent: what sets an endpoint's endpointMonitorStatus. Every rule
 * is from learn.microsoft.com azure/traffic-manager/traffic-manager-monitoring ([MON] in the stand-in's
 * table), except the clock: Traffic Manager probes every 10 or 30 s, this agent every `intervalMs` (tests
 * run in seconds), and waits `timeoutMs` instead of timeoutInSeconds.
 *
 * - An endpoint that is disabled is not probed and reads Disabled; in a disabled profile an enabled one
 *   reads Inactive ("Endpoint monitor status" table).
 * - Right after it is added or enabled it reads CheckingEndpoint until the first probe's result is in (same
 *   table); the first probe goes out one interval after that.
 * - HTTP/HTTPS: a GET of protocol://target:port/path with the profile's and the endpoint's custom headers;
 *   healthy when the status is in expectedStatusCodeRanges, 200 alone by default; any other answer (another
 *   2xx, a 301/302), a timeout or a connection error is a failure. HTTPS does not check the certificate.
 *   TCP: a connection that opens is a success ("How endpoint monitoring works", "Endpoint failover").
 * - Degraded once consecutive failures exceed toleratedNumberOfFailures; one success resets the count and
 *   makes it Online again (the failover timeline, steps 5, 6 and 10).
 * Not said by the docs, chosen here: a failing first probe within the tolerated count leaves the endpoint
 * CheckingEndpoint (it is neither seen healthy nor yet Degraded).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";

export type MonitorStatus = "CheckingEndpoint" | "Online" | "Degraded" | "Disabled" | "Inactive";

export interface ProbeSpec {
  readonly protocol: string;
  readonly target: string;
  readonly port: number;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expected: readonly { readonly min: number; readonly max: number }[];
  readonly tolerated: number;
}

export interface ProbeOutcome {
  readonly passed: boolean;
  readonly detail: string;
}

/** One endpoint's monitor: its status, and the count of consecutive failures. */
export class EndpointMonitor {
  #status: MonitorStatus;
  #failures = 0;
  #generation = 0;
  #probing = false;
  #notBefore = 0;
  readonly #onChange: (status: MonitorStatus) => void;

  constructor(initial: MonitorStatus, onChange: (status: MonitorStatus) => void) {
    this.#status = initial;
    this.#onChange = onChange;
  }

  get status(): MonitorStatus {
    return this.#status;
  }

  /** The endpoint (or its profile) was enabled or disabled, or just created: start over. */
  reset(status: MonitorStatus, intervalMs: number): void {
    this.#generation++;
    this.#failures = 0;
    this.#notBefore = Date.now() + intervalMs;
    this.#set(status);
  }

  /** Sends one probe unless one is out, it is not time yet, or the endpoint is not monitored. */
  async probe(spec: ProbeSpec, timeoutMs: number): Promise<void> {
    if (this.#probing || Date.now() < this.#notBefore) return;
    if (this.#status === "Disabled" || this.#status === "Inactive") return;
    const generation = this.#generation;
    this.#probing = true;
    try {
      const outcome = await probeOnce(spec, timeoutMs);
      if (generation !== this.#generation) return;
      if (outcome.passed) {
        this.#failures = 0;
        this.#set("Online");
      } else if (++this.#failures > spec.tolerated) this.#set("Degraded");
    } finally {
      this.#probing = false;
    }
  }

  #set(status: MonitorStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#onChange(status);
  }
}

export function probeOnce(spec: ProbeSpec, timeoutMs: number): Promise<ProbeOutcome> {
  if (spec.protocol.toUpperCase() === "TCP") return tcpProbe(spec, timeoutMs);
  const send = spec.protocol.toUpperCase() === "HTTPS" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      {
        host: spec.target,
        port: spec.port,
        path: spec.path,
        method: "GET",
        headers: {
          host: spec.target,
          "user-agent": "Azure Traffic Manager Endpoint Monitor",
          ...spec.headers,
        },
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        const passed = spec.expected.some((r) => status >= r.min && status <= r.max);
        resolve({ passed, detail: `HTTP ${status}` });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    req.on("error", (error) => resolve({ passed: false, detail: error.message }));
    req.end();
  });
}

function tcpProbe(spec: ProbeSpec, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: spec.target, port: spec.port, timeout: timeoutMs });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ passed: true, detail: "connected" });
    });
    socket.on("timeout", () => socket.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    socket.on("error", (error) => resolve({ passed: false, detail: error.message }));
  });
}
