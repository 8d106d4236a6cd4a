import { setTimeout as sleep } from "node:timers/promises";
import type { BuiltinFrontConfig } from "../config/fleet-schema.js";
import { readToken } from "../daemon/state-files.js";
import { CutoverError, isErrorCode } from "../errors.js";
import { httpUrl } from "../host-port.js";
import { frontStateDir } from "./front-files.js";
import type { FrontRegionState, GlobalFront } from "./global-front.js";

export interface BuiltinFrontClientOptions {
  /** The front's admin API, e.g. http://127.0.0.1:7999. */
  readonly url: string;
  readonly token: string;
  /** How often restore() and drain() read the regions' state while they wait. Default 250 ms. */
  readonly pollMs?: number;
}

/** The fleet runner's side of `cutover global`: drain and restore regions over the front's admin API. */
export class BuiltinFrontClient implements GlobalFront {
  readonly kind = "builtin";
  readonly #base: string;
  readonly #token: string;
  readonly #pollMs: number;

  constructor(options: BuiltinFrontClientOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#pollMs = options.pollMs ?? 250;
  }

  /** Takes `region` out; resolves once the front's state shows it disabled (at once: the front applies it atomically). */
  async drain(region: string, signal?: AbortSignal): Promise<void> {
    await this.#call<FrontRegionState>("POST", `/regions/${encodeURIComponent(region)}/drain`, signal);
    await this.#until(region, (state) => !state.enabled, signal);
  }

  /** Puts `region` back; resolves once it is enabled and the front's probe finds it healthy. */
  async restore(region: string, signal?: AbortSignal): Promise<void> {
    await this.#call<FrontRegionState>("POST", `/regions/${encodeURIComponent(region)}/restore`, signal);
    await this.#until(region, (state) => state.enabled && state.healthy === true, signal);
  }

  status(signal?: AbortSignal): Promise<readonly FrontRegionState[]> {
    return this.#call<FrontRegionState[]>("GET", "/regions", signal);
  }

  async close(): Promise<void> {
    // Nothing held open: each call is a fetch of its own.
  }

  /** Reads the regions' state every pollMs until `region`'s satisfies `done`, or `signal` aborts. */
  async #until(
    region: string,
    done: (state: FrontRegionState) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    for (;;) {
      const state = (await this.status(signal)).find((s) => s.region === region);
      if (state === undefined)
        throw new CutoverError(
          "UNKNOWN_REGION",
          `the global front at ${this.#base} no longer has region "${region}"`,
        );
      if (done(state)) return;
      // Aborted, the wait rejects with the signal's reason, as fetch does.
      await sleep(this.#pollMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
    }
  }

  async #call<T>(method: "GET" | "POST", path: string, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}` },
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      signal?.throwIfAborted();
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CutoverError(
        "FRONT_UNREACHABLE",
        `the global front's admin API at ${this.#base} did not answer (${cause}); start it with \`cutover global\`, or check globalFront.url`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as unknown;
    if (response.ok) return body as T;
    const { error, message } = body as { error?: unknown; message?: unknown };
    const text = typeof message === "string" ? message : `the global front answered HTTP ${response.status}`;
    if (isErrorCode(error)) throw new CutoverError(error, text);
    throw new CutoverError("UNKNOWN_ANSWER", `${text} (${String(error ?? `HTTP ${response.status}`)})`);
  }
}

/**
 * The client for a config's `globalFront: { type: builtin }`: its url (default: http://<admin>) and token
 * (default: the one `cutover global` wrote in <stateDir>/global-front/token).
 */
export function frontClientFor(config: BuiltinFrontConfig, configStateDir: string): BuiltinFrontClient {
  const url = config.url ?? httpUrl({ host: reachableHost(config.admin.host), port: config.admin.port });
  const dir = frontStateDir(configStateDir);
  const token = config.token ?? readToken(dir);
  if (token === null || token === "")
    throw new CutoverError(
      "NO_FRONT_TOKEN",
      `no token for the global front: ${dir}/token does not exist; start the front with \`cutover global\` (it writes the token there), or set globalFront.token`,
    );
  return new BuiltinFrontClient({ url, token });
}

/** A wildcard listen address is reached on loopback. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}
