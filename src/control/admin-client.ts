import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LoadedConfig } from "../config/load.js";
import { readDaemonInfo, readToken } from "../daemon/state-files.js";
import { CutoverError, DaemonNotRunningError, isErrorCode } from "../errors.js";

/** Node's codes for a TLS certificate it cannot verify (self-signed, unknown issuer, wrong name, expired). */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

/** A daemon's answer: its status and body. */
type Answer = IncomingMessage & { statusCode: number };

/**
 * The CLI's side of the admin API: finds the daemon through .cutover/daemon.json and sends the token. It
 * speaks through node:http(s), not fetch: the first fetch of a process costs about a quarter of a CPU-second
 * (Node loads its bundled undici and compiles its HTTP parser's WebAssembly), and most commands are one request.
 */
export class AdminClient {
  readonly #base: string;
  readonly #token: string;
  /** The CA of a region's admin API over https that has a CA of its own (PEM); else the system's. */
  readonly #ca: string | undefined;

  constructor(base: string, token: string, options: { readonly ca?: string | undefined } = {}) {
    this.#base = base.replace(/\/+$/, "");
    this.#token = token;
    this.#ca = options.ca;
  }

  /** Where it asks, for messages: "https://eu.example.com:8079". */
  get base(): string {
    return this.#base;
  }

  static forConfig(loaded: LoadedConfig): AdminClient {
    const info = readDaemonInfo(loaded.stateDir);
    const token = readToken(loaded.stateDir);
    if (!info || !token) throw new DaemonNotRunningError(`no daemon.json in ${loaded.stateDir}`);
    return new AdminClient(info.admin, token);
  }

  get<T>(path: string): Promise<T> {
    return this.#json<T>("GET", path);
  }

  /** GET of a text answer (the Prometheus text of /metrics). */
  async text(path: string): Promise<string> {
    return bodyOf(await this.#ask("GET", path));
  }

  /** The status of a GET without the token (a page the daemon serves to anyone: the dashboard's); null: no answer. */
  async pageStatus(path: string): Promise<number | null> {
    try {
      const answer = await this.#send("GET", path, undefined, false);
      answer.resume();
      return answer.statusCode;
    } catch {
      return null;
    }
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#json<T>("POST", path, body);
  }

  /** POSTs and yields each line of an NDJSON answer as it arrives. */
  async *stream<T>(path: string, body: unknown): AsyncGenerator<T> {
    for await (const line of ndjsonLines(await this.#ask("POST", path, body))) yield JSON.parse(line) as T;
  }

  /** A GET whose answer streams (NDJSON events) until the daemon ends it or `signal` aborts. */
  open(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    return this.#ask("GET", path, undefined, signal);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse(await bodyOf(await this.#ask(method, path, body))) as T;
  }

  /** One request with the token; an answer other than 2xx becomes the daemon's error. */
  async #ask(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Answer> {
    let response: Answer;
    try {
      response = await this.#send(method, path, body, true, signal);
    } catch (error) {
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      if (UNTRUSTED_CERTIFICATE.test(cause))
        throw new CutoverError(
          "ADMIN_CERTIFICATE",
          `${this.#base} answered with a certificate that is not trusted (${cause}); name the CA that signed it (regions[].admin.ca: a PEM file)`,
        );
      throw new DaemonNotRunningError(`${this.#base} did not answer: ${cause}`);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const text = await bodyOf(response).catch(() => "");
    const answer = parsedOrEmpty(text) as { error?: unknown; message?: string };
    const message = answer.message ?? `the daemon answered ${response.statusCode}`;
    // The daemon's code, with its exit code from the same table; a code this CLI does not know (a daemon of
    // another version) is passed on in the message.
    if (isErrorCode(answer.error)) throw new CutoverError(answer.error, message);
    throw new CutoverError(
      "UNKNOWN_ANSWER",
      `${message} (${String(answer.error ?? `HTTP ${response.statusCode}`)})`,
    );
  }

  #send(
    method: string,
    path: string,
    body: unknown,
    withToken: boolean,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const url = new URL(this.#base + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (withToken) headers.authorization = `Bearer ${this.#token}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const options = {
        method,
        headers,
        ...(this.#ca ? { ca: this.#ca } : {}),
        ...(signal ? { signal } : {}),
      };
      const request = send(url, options, (answer) => resolve(answer as Answer));
      request.on("error", reject);
      request.end(payload);
    });
  }
}

/** Each non-empty line of an NDJSON answer, as it arrives. */
export async function* ndjsonLines(answer: IncomingMessage): AsyncGenerator<string> {
  answer.setEncoding("utf8");
  let buffered = "";
  for await (const chunk of answer as AsyncIterable<string>) {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
      newline = buffered.indexOf("\n");
    }
  }
}

async function bodyOf(answer: IncomingMessage): Promise<string> {
  answer.setEncoding("utf8");
  let text = "";
  for await (const chunk of answer as AsyncIterable<string>) text += chunk;
  return text;
}

function parsedOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
