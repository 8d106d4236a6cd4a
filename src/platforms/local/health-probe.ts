import { type Agent, get } from "node:http";
import { connect } from "node:http2";
import type { RouterConfig } from "../../config/schema.js";
import { httpUrl } from "../../host-port.js";

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly problem: string };

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
  /** Keeps a connection to the replica between checks (keepAlive); without one, a connection per check. */
  readonly agent?: Agent | undefined;
  /** What the replica speaks (router.upstreamProtocol): h2c replicas are asked over HTTP/2; default http1. */
  readonly protocol?: RouterConfig["upstreamProtocol"] | undefined;
}

const BODY_EXCERPT = 200;

/**
 * One health check: GET the path; any 2xx within the timeout passes. Never throws, never hangs. Over
 * node:http, not undici: a daemon would load undici and compile its parser's WebAssembly (a third of a
 * CPU-second) for one small answer a second.
 */
export async function probeHealth(target: ProbeTarget): Promise<ProbeResult> {
  if (target.protocol === "h2c") return probeOverH2c(target);
  return probeOverHttp1(target, AbortSignal.timeout(target.timeoutMs), true);
}

/**
 * `mayAskAgain`: a kept connection the replica closed just as it was reused is not the replica's failure;
 * the check is then asked again, once, within the same timeout.
 */
function probeOverHttp1(
  target: ProbeTarget,
  signal: AbortSignal,
  mayAskAgain: boolean,
): Promise<ProbeResult> {
  const what = `GET ${target.path}`;
  return new Promise((resolve) => {
    let decided = false;
    const decide = (result: ProbeResult | Promise<ProbeResult>): void => {
      if (decided) return;
      decided = true;
      resolve(result);
    };
    const request = get(httpUrl(target, target.path), { agent: target.agent ?? false, signal }, (answer) => {
      const status = answer.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        decide({ ok: true });
        answer.resume(); // a pass needs no body; read on, so that the connection can be kept
        return;
      }
      // A failure is told with the start of its body.
      let text = "";
      answer.setEncoding("utf8");
      answer.on("data", (chunk: string) => {
        text += chunk;
        if (text.length < BODY_EXCERPT) return;
        decide(answered(target.path, status, excerptOf(text)));
        request.destroy();
      });
      answer.on("end", () => decide(answered(target.path, status, excerptOf(text))));
      answer.on("error", () => decide(answered(target.path, status, excerptOf(text))));
    });
    // After the check is decided (the timeout's abort of a body still coming), errors are of no interest.
    request.on("error", (error: NodeJS.ErrnoException) => {
      const closedAsReused = request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE");
      if (mayAskAgain && closedAsReused && !signal.aborted) decide(probeOverHttp1(target, signal, false));
      else decide({ ok: false, problem: `${what} ${failure(error, signal, target.timeoutMs)}` });
    });
  });
}

/**
 * The same check over HTTP/2 cleartext (prior knowledge), for replicas that speak nothing else: a session of
 * its own for the one request (as the kubelet's probes have), destroyed once the check is decided.
 */
function probeOverH2c(target: ProbeTarget): Promise<ProbeResult> {
  const what = `GET ${target.path}`;
  return new Promise((resolve) => {
    const session = connect(httpUrl(target));
    let decided = false;
    const decide = (result: ProbeResult): void => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const failed = (error: Error): void =>
      decide({ ok: false, problem: `${what} failed: ${h2cFailure(error)}` });
    const timer = setTimeout(
      () => decide({ ok: false, problem: `${what} timed out after ${target.timeoutMs}ms` }),
      target.timeoutMs,
    );
    // Errors after the check is decided (the session destroyed under its stream) are of no interest.
    session.on("error", failed);
    let status = 0;
    let text = "";
    const stream = session.request({ ":method": "GET", ":path": target.path }, { endStream: true });
    stream.on("error", failed);
    stream.setEncoding("utf8");
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      // A pass needs no body; a failure is told with the start of its body.
      if (status >= 200 && status < 300) decide({ ok: true });
    });
    stream.on("data", (chunk: string) => {
      text += chunk;
      if (text.length >= BODY_EXCERPT) decide(answered(target.path, status, excerptOf(text)));
    });
    stream.on("end", () => decide(answered(target.path, status, excerptOf(text))));
    // Closed with no error and no end (reset with NO_ERROR): what was answered so far is all there is.
    stream.on("close", () => {
      if (status !== 0) decide(answered(target.path, status, excerptOf(text)));
      else decide({ ok: false, problem: `${what} failed: the stream closed without an answer` });
    });
  });
}

/** What an h2c check that could not be answered is told beside its error, when the cause may be the protocol. */
const NOT_H2C =
  " (router.upstreamProtocol is h2c: does the replica speak HTTP/2 cleartext with prior knowledge?)";

function h2cFailure(error: Error): string {
  // A stream cancelled because its session failed (e.g. refused) carries the session's error as its cause.
  const cause = error.cause instanceof Error ? error.cause : error;
  // An HTTP/1.1 server answers HTTP/2's connection preface with a 400, which nghttp2 takes for a protocol error.
  const hint = (cause as NodeJS.ErrnoException).code === "ERR_HTTP2_ERROR" ? NOT_H2C : "";
  return `${cause.message}${hint}`;
}

function answered(path: string, status: number, excerpt: string): ProbeResult {
  if (status >= 200 && status < 300) return { ok: true };
  return { ok: false, problem: `GET ${path} answered ${status}${excerpt}` };
}

function failure(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs}ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return `failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}

function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, " ").trim().slice(0, BODY_EXCERPT);
  return line === "" ? "" : `: ${line}`;
}
