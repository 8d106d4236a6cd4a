import { hostPort } from "../../host-port.js";
import type { ProbeResult } from "./health-probe.js";

export interface GrpcProbeTarget {
  readonly host: string;
  readonly port: number;
  /** The service asked about; "" asks about the server as a whole. */
  readonly service: string;
  readonly timeoutMs: number;
}

const METHOD = "grpc.health.v1.Health/Check";
/** Status codes of gRPC (grpc/doc/statuscodes.md) a check can meet, by number. */
const CODE_NAMES: Readonly<Record<number, string>> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
};
const HINTS: Readonly<Record<number, string>> = {
  5: "the replica's health service does not know this service name; set health.grpc.service to one it registers, or leave it out to ask about the server",
  12: "the replica serves no grpc.health.v1.Health; register one (in Node, grpc-health-check's HealthImplementation), or check GET health.path instead",
};

type CheckCallback = (error: { code: number; details: string } | null, answer?: { status: string }) => void;
interface HealthClient {
  check(request: { service: string }, options: { deadline: number }, callback: CheckCallback): void;
  close(): void;
}
type HealthClientFactory = (address: string) => HealthClient;

let factory: Promise<HealthClientFactory> | undefined;

/**
 * One gRPC health check (the standard grpc.health.v1.Health/Check, over h2c): SERVING within the timeout
 * passes; NOT_SERVING, an error status or no answer fails. Each check has a connection of its own, as the
 * kubelet's does, so a replica that was down is seen up at the next check (a shared channel would wait out
 * its reconnection backoff). Never throws, never hangs.
 */
export async function probeGrpcHealth(target: GrpcProbeTarget): Promise<ProbeResult> {
  const what = `${METHOD}(${JSON.stringify(target.service)})`;
  let client: HealthClient;
  try {
    client = (await healthClientFactory())(hostPort(target.host, target.port));
  } catch (error) {
    return { ok: false, problem: `${what} could not be made: ${(error as Error).message}` };
  }
  try {
    return await check(client, what, target);
  } finally {
    client.close();
  }
}

function check(client: HealthClient, what: string, target: GrpcProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    // The deadline ends the call; the guard is for a client that would never call back.
    const guard = setTimeout(
      () => resolve({ ok: false, problem: `${what} timed out after ${target.timeoutMs}ms` }),
      target.timeoutMs + 1_000,
    );
    client.check(
      { service: target.service },
      { deadline: Date.now() + target.timeoutMs },
      (error, answer) => {
        clearTimeout(guard);
        if (error !== null) resolve({ ok: false, problem: failure(what, error, target.timeoutMs) });
        else if (answer?.status === "SERVING") resolve({ ok: true });
        else resolve({ ok: false, problem: `${what} answered ${answer?.status ?? "nothing"}` });
      },
    );
  });
}

function failure(what: string, error: { code: number; details: string }, timeoutMs: number): string {
  if (error.code === 4) return `${what} timed out after ${timeoutMs}ms`;
  const name = CODE_NAMES[error.code] ?? `status ${error.code}`;
  const hint = HINTS[error.code];
  return `${what} failed: ${name}: ${error.details}${hint === undefined ? "" : ` (${hint})`}`;
}

/** Loaded on first use: only a service with health.grpc pays for gRPC's libraries. */
function healthClientFactory(): Promise<HealthClientFactory> {
  factory ??= (async () => {
    const [grpc, health] = await Promise.all([import("@grpc/grpc-js"), import("grpc-health-check")]);
    const Client = grpc.makeGenericClientConstructor(
      health.service as unknown as Parameters<typeof grpc.makeGenericClientConstructor>[0],
      "Health",
    );
    const options = { "grpc.use_local_subchannel_pool": 1, "grpc.enable_retries": 0 };
    return (address: string) =>
      new Client(address, grpc.credentials.createInsecure(), options) as unknown as HealthClient;
  })();
  return factory;
}
