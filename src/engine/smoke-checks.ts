import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { Agent } from "undici";
import type { Address, SmokeCheck } from "../config/schema.js";
import { formatDuration } from "../duration.js";
import { httpUrl } from "../host-port.js";
import { redactSecrets } from "../secrets.js";

export interface SmokeResult {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** Runs the pre-switch checks against the preview address (which serves the idle colour), in order. */
export async function runSmokeChecks(
  checks: readonly SmokeCheck[],
  preview: Address,
  version: string,
  signal: AbortSignal,
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  const base = httpUrl(preview);
  // Connections of this run only: one kept alive from an earlier run may still lead to the colour the
  // preview address served then (kube-proxy and load balancers keep a connection on its first backend).
  // undici is loaded by the first run of checks: a daemon whose deploys have none never loads it.
  const { Agent } = await import("undici");
  const connections = new Agent();
  try {
    for (const check of checks) {
      if (signal.aborted) break;
      const result =
        "http" in check
          ? await httpCheck(check, base, connections, signal)
          : await commandCheck(check, base, version, signal);
      results.push(result);
      if (!result.passed) break;
    }
  } finally {
    await connections.close();
  }
  return results;
}

type HttpCheck = Extract<SmokeCheck, { http: unknown }>;
type CommandCheck = Extract<SmokeCheck, { command: string }>;

/**
 * One HTTP check. A request that cannot reach a server (refused, reset) is sent again until the check's
 * timeout: the preview address may lag the replicas that just became ready (kube-proxy follows endpoint
 * changes a moment later). An answer, right or wrong, is final.
 */
async function httpCheck(
  check: HttpCheck,
  base: string,
  connections: Agent,
  signal: AbortSignal,
): Promise<SmokeResult> {
  const { path, method, expectStatus, bodyContains, timeout } = check.http;
  const name = check.name ?? `${method} ${path}`;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
  const { fetch } = await import("undici");
  let response: Awaited<ReturnType<typeof fetch>>;
  let unanswered: unknown = null;
  for (;;) {
    try {
      response = await fetch(base + path, { method, signal: deadline, dispatcher: connections });
      break;
    } catch (error) {
      if (deadline.aborted && unanswered !== null && !signal.aborted)
        return {
          name,
          passed: false,
          detail: `nothing answered at ${base}${path} within ${formatDuration(timeout)} (${describe(unanswered)}); check that the preview address (router.preview, kubernetes.preview) reaches the new colour`,
        };
      if (!unreachable(error, method) || deadline.aborted)
        return { name, passed: false, detail: `request failed: ${describe(error)}` };
      unanswered = error;
      await sleep(RETRY_MS, undefined, { signal: deadline }).catch(() => {});
    }
  }
  try {
    const body = await response.text();
    if (response.status !== expectStatus) {
      return {
        name,
        passed: false,
        detail: `answered ${response.status}, expected ${expectStatus}: ${body.slice(0, 200)}`,
      };
    }
    if (bodyContains !== undefined && !body.includes(bodyContains)) {
      return {
        name,
        passed: false,
        detail: `body does not contain ${JSON.stringify(bodyContains)}: ${body.slice(0, 200)}`,
      };
    }
    return { name, passed: true, detail: `answered ${response.status}` };
  } catch (error) {
    return { name, passed: false, detail: `request failed: ${describe(error)}` };
  }
}

const RETRY_MS = 100;
/** Nothing listened: the request was never sent, so sending it again is safe for any method. */
const REFUSED = new Set(["ECONNREFUSED"]);
/** The connection was cut: the server may have had the request, so only a safe method is sent again. */
const CUT = new Set(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE"]);

/** The request never reached a server that answered (and sending it again cannot do anything twice). */
function unreachable(error: unknown, method: string): boolean {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code !== "string") return false;
  return REFUSED.has(code) || (CUT.has(code) && (method === "GET" || method === "HEAD"));
}

function describe(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: { message?: unknown } }).cause;
  return typeof cause?.message === "string" ? `${message} (${cause.message})` : message;
}

function commandCheck(
  check: CommandCheck,
  base: string,
  version: string,
  signal: AbortSignal,
): Promise<SmokeResult> {
  const name = check.name ?? redactSecrets(check.command);
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", check.command], {
      env: { ...process.env, PREVIEW_URL: base, VERSION: version },
      stdio: ["ignore", "pipe", "pipe"],
      signal: AbortSignal.any([signal, AbortSignal.timeout(check.timeout)]),
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-500);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) => resolve({ name, passed: false, detail: `could not run: ${error.message}` }));
    child.on("close", (code, sig) => {
      const tail = output.trim() ? `: ${output.trim()}` : "";
      if (code === 0) resolve({ name, passed: true, detail: "exited 0" });
      else
        resolve({
          name,
          passed: false,
          detail: `${sig ? `stopped by ${sig} (timeout?)` : `exited ${code}`}${tail}`,
        });
    });
  });
}
