import type { Dispatcher } from "undici";
import type { LoadedConfig } from "../config/load.js";
import { readDaemonInfo, readToken } from "../daemon/state-files.js";
import { CutoverError, DaemonNotRunningError, isErrorCode } from "../errors.js";

/** Node's codes for a TLS certificate it cannot verify (self-signed, unknown issuer, wrong name, expired). */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

/** The CLI's side of the admin API: finds the daemon through .cutover/daemon.json and sends the token. */
export class AdminClient {
  readonly #base: string;
  readonly #token: string;
  /** A dispatcher of its own (a region's admin API over TLS with its own CA); else the global fetch's. */
  readonly #dispatcher: Dispatcher | undefined;

  constructor(base: string, token: string, dispatcher?: Dispatcher) {
    this.#base = base.replace(/\/+$/, "");
    this.#token = token;
    this.#dispatcher = dispatcher;
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
    return (await this.#fetch("GET", path)).text();
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#json<T>("POST", path, body);
  }

  /** POSTs and yields each line of an NDJSON answer as it arrives. */
  async *stream<T>(path: string, body: unknown): AsyncGenerator<T> {
    const response = await this.#fetch("POST", path, body);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as T;
        newline = buffered.indexOf("\n");
      }
    }
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(method, path, body);
    return (await response.json()) as T;
  }

  async #fetch(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    const init = {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    };
    try {
      response = this.#dispatcher
        ? ((await (
            await import("undici")
          ).fetch(this.#base + path, {
            ...init,
            dispatcher: this.#dispatcher,
          })) as unknown as Response)
        : await fetch(this.#base + path, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      if (UNTRUSTED_CERTIFICATE.test(cause))
        throw new CutoverError(
          "ADMIN_CERTIFICATE",
          `${this.#base} answered with a certificate that is not trusted (${cause}); name the CA that signed it (regions[].admin.ca: a PEM file)`,
        );
      throw new DaemonNotRunningError(`${this.#base} did not answer: ${cause}`);
    }
    if (response.ok) return response;
    const answer = (await response.json().catch(() => ({}))) as { error?: unknown; message?: string };
    const message = answer.message ?? `the daemon answered ${response.status}`;
    // The daemon's code, with its exit code from the same table; a code this CLI does not know (a daemon of
    // another version) is passed on in the message.
    if (isErrorCode(answer.error)) throw new CutoverError(answer.error, message);
    throw new CutoverError(
      "UNKNOWN_ANSWER",
      `${message} (${String(answer.error ?? `HTTP ${response.status}`)})`,
    );
  }
}
