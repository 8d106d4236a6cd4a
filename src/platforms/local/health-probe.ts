import { type Dispatcher, request } from "undici";

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly problem: string };

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher;
}

const BODY_EXCERPT = 200;

/** One health check: GET the path; any 2xx within the timeout passes. Never throws, never hangs. */
export async function probeHealth(target: ProbeTarget): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(target.timeoutMs);
  try {
    const response = await request(`http://${target.host}:${target.port}${target.path}`, {
      dispatcher: target.dispatcher,
      signal,
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
    });
    const excerpt = await readExcerpt(response.body);
    if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true };
    return { ok: false, problem: `GET ${target.path} answered ${response.statusCode}${excerpt}` };
  } catch (error) {
    return { ok: false, problem: `GET ${target.path} ${failure(error, signal, target.timeoutMs)}` };
  }
}

function failure(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs}ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return `failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}

async function readExcerpt(body: Dispatcher.ResponseData["body"]): Promise<string> {
  let text = "";
  for await (const chunk of body) {
    text += String(chunk);
    if (text.length >= BODY_EXCERPT) break;
  }
  const line = text.replace(/\s+/g, " ").trim().slice(0, BODY_EXCERPT);
  return line === "" ? "" : `: ${line}`;
}
