import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Address } from "../config/schema.js";
import type { AdminHandler } from "../dashboard/admin-handler.js";
import { parseDuration } from "../duration.js";
import type { Engine } from "../engine/engine.js";
import type { StartedOperation } from "../engine/engine-options.js";
import { SWITCHOVER_HOLD } from "../engine/ports/database-sync.js";
import type { HoldResult, HoldState, RequestHold } from "../engine/ports/traffic-router.js";
import { CutoverError, httpStatusOf } from "../errors.js";

export const MAX_BODY_BYTES = 64 * 1024;
/** `cutover pause` holds requests this long unless told otherwise, and never longer than MAX_PAUSE_MS. */
export const DEFAULT_PAUSE_MS = 30_000;
export const MAX_PAUSE_MS = 10 * 60_000;

export interface AdminServerOptions {
  readonly address: Address;
  readonly token: string;
  readonly engine: Engine;
  readonly metrics: () => Promise<{ contentType: string; text: string }>;
  /** The data plane's hold of new requests, for `cutover pause` and `resume`; null or absent: it cannot hold. */
  readonly requestHold?: RequestHold | null;
  readonly onShutdown: () => void;
  /** More endpoints behind the token, keyed "METHOD /path" (e.g. the dashboard's live metrics). */
  readonly routes?: ReadonlyMap<string, AdminHandler>;
  /**
   * Files served WITHOUT the token under this prefix: only static assets that hold no data (the dashboard's
   * page shell, script and styles); everything they show comes from token-protected endpoints.
   */
  readonly publicFiles?: { readonly prefix: string; readonly serve: AdminHandler };
  readonly logger: Logger;
  /** A client must send its whole request head within this (slow-header and idle connections are closed). Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** ... and its whole request within this. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * How often the server looks for connections past headersTimeout or requestTimeout. Node's default (30 s)
 * would let a slow-header or idle connection live 40 s; one second keeps such connections, and their file
 * descriptors, from piling up (the router shares this process and its descriptor limit).
 */
const CONNECTIONS_CHECK_MS = 1_000;

type Handler = AdminHandler;

/**
 * The admin API the CLI (and later the dashboard) talks to: loopback by default, every request needs
 * `Authorization: Bearer <token>`, bodies are small JSON objects.
 */
export class AdminServer {
  readonly #o: AdminServerOptions;
  readonly #server: Server;
  readonly #token: Buffer;
  readonly #routes: ReadonlyMap<string, Handler>;

  constructor(options: AdminServerOptions) {
    this.#o = options;
    this.#token = Buffer.from(options.token);
    this.#routes = new Map<string, Handler>([
      ["GET /status", async (_q, res) => sendJson(res, 200, this.#o.engine.status())],
      ["GET /history", async (_q, res) => sendJson(res, 200, this.#o.engine.history())],
      ["POST /deploys", (_q, res, body) => this.#deploy(res, body)],
      ["POST /rollback", (_req, res, body) => this.#start(res, body, () => this.#o.engine.rollback())],
      ["POST /promote", async (_q, res) => sendJson(res, 200, await this.#o.engine.promote())],
      ["POST /abort", async (_q, res) => sendJson(res, 200, await this.#o.engine.abort())],
      ["POST /pause", async (_q, res, body) => sendJson(res, 200, await this.#pause(body))],
      ["POST /resume", async (_q, res) => sendJson(res, 200, await this.#resume())],
      ["GET /events", async (req, res) => this.#events(req, res)],
      ["GET /metrics", async (_q, res) => this.#metrics(res)],
      ["POST /shutdown", async (_q, res) => this.#shutdown(res)],
    ]);
    for (const [key, handler] of options.routes ?? [])
      (this.#routes as Map<string, Handler>).set(key, handler);
    this.#server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, (req, res) => {
      void this.#handle(req, res);
    });
    this.#server.headersTimeout = options.headersTimeoutMs ?? 10_000;
    this.#server.requestTimeout = options.requestTimeoutMs ?? 30_000;
    this.#server.maxHeadersCount = 100;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#o.address.port, this.#o.address.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const files = this.#o.publicFiles;
      if (files && req.method === "GET" && (req.url ?? "").startsWith(files.prefix)) {
        await files.serve(req, res, undefined);
        return;
      }
      if (!this.#authorised(req)) {
        res.setHeader("www-authenticate", 'Bearer realm="cutover"');
        throw new CutoverError(
          "UNAUTHORISED",
          "missing or wrong bearer token; the CLI reads it from .cutover/token",
        );
      }
      const path = pathOf(req);
      const handler = this.#routes.get(`${req.method} ${path}`);
      if (!handler) {
        const known = [...this.#routes.keys()].some((key) => key.endsWith(` ${path}`));
        throw known
          ? new CutoverError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}`)
          : new CutoverError("NOT_FOUND", `no such endpoint: ${path}`);
      }
      const body = req.method === "POST" ? await readJsonBody(req) : undefined;
      await handler(req, res, body);
    } catch (error) {
      this.#sendError(req, res, error);
    }
  }

  #authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }

  async #deploy(res: ServerResponse, body: unknown): Promise<void> {
    const version = (body as { version?: unknown }).version;
    if (typeof version !== "string" || !/^[\w.+-]{1,128}$/.test(version)) {
      throw new CutoverError("BAD_VERSION", 'expected {"version": "<1-128 letters, digits, . _ + ->"}');
    }
    await this.#start(res, body, () => this.#o.engine.deploy(version));
  }

  /**
   * Starts a deploy or rollback; with {"follow": true} streams its record as NDJSON for as long as
   * `engine.follow` goes: until it ends, or waits for a person to promote it.
   */
  async #start(res: ServerResponse, body: unknown, begin: () => Promise<StartedOperation>): Promise<void> {
    const follow = (body as { follow?: unknown }).follow === true;
    const { record } = await begin();
    if (!follow) {
      sendJson(res, 202, record);
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    for await (const next of this.#o.engine.follow(record.id)) res.write(`${JSON.stringify(next)}\n`);
    res.end();
  }

  /** Holds new requests until `cutover resume` or the timeout; answers the hold's state. */
  async #pause(body: unknown): Promise<HoldState> {
    const hold = this.#hold();
    const { timeoutMs, reason } = pauseRequest(body);
    await hold.hold(timeoutMs, reason);
    return hold.holding() as HoldState;
  }

  /** Releases a person's hold; a database switchover's is its own to release (it knows when it is safe). */
  async #resume(): Promise<HoldResult> {
    const hold = this.#hold();
    const current = hold.holding();
    if (current?.reason.startsWith(SWITCHOVER_HOLD))
      throw new CutoverError(
        "HOLD_ACTIVE",
        `requests are held by a ${current.reason}, which releases them itself within database.switchoverTimeout (at ${new Date(current.releaseAt).toISOString()} at the latest); \`cutover resume\` releases only a \`cutover pause\``,
      );
    return await hold.release();
  }

  #hold(): RequestHold {
    const hold = this.#o.requestHold ?? null;
    if (hold === null)
      throw new CutoverError(
        "HOLD_UNSUPPORTED",
        "this daemon's data plane cannot hold requests (HAProxy queues a request only after choosing its colour); pause and resume need the built-in router (router.dataPlane: builtin)",
      );
    return hold;
  }

  async #events(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    res.write(`${JSON.stringify({ type: "status", status: this.#o.engine.status() })}\n`);
    const unsubscribe = this.#o.engine.onEvent((event) => res.write(`${JSON.stringify(event)}\n`));
    req.on("close", unsubscribe);
  }

  async #metrics(res: ServerResponse): Promise<void> {
    const { contentType, text } = await this.#o.metrics();
    res.writeHead(200, { "content-type": contentType });
    res.end(text);
  }

  async #shutdown(res: ServerResponse): Promise<void> {
    sendJson(res, 202, { message: "shutting down: stopping both colours and the router" });
    setImmediate(this.#o.onShutdown);
  }

  #sendError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const { status, code, message } = toHttpError(error);
    // The path only: a query string is the client's to fill, and may hold something secret.
    if (status >= 500) this.#o.logger.error({ err: error, path: pathOf(req) }, "admin request failed");
    if (res.headersSent) {
      res.end(`${JSON.stringify({ error: code, message })}\n`);
      return;
    }
    // Draining the rest of a refused body could take long; close the connection instead.
    if (!req.complete) res.setHeader("connection", "close");
    sendJson(res, status, { error: code, message });
  }
}

/** The body of POST /pause: {"timeout"?: "30s" (a duration, or milliseconds), "reason"?: "..."}. */
export function pauseRequest(body: unknown): { timeoutMs: number; reason: string } {
  const { timeout, reason } = body as { timeout?: unknown; reason?: unknown };
  const timeoutMs =
    timeout === undefined
      ? DEFAULT_PAUSE_MS
      : typeof timeout === "string" || typeof timeout === "number"
        ? parseDuration(timeout)
        : undefined;
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_PAUSE_MS) {
    throw new CutoverError(
      "BAD_TIMEOUT",
      `expected {"timeout": "<a duration above 0 and at most ${MAX_PAUSE_MS / 60_000}m, such as "30s">"}, got ${JSON.stringify(timeout)}`,
    );
  }
  if (reason !== undefined && (typeof reason !== "string" || reason.length === 0 || reason.length > 200)) {
    throw new CutoverError("BAD_ARGUMENT", 'expected {"reason": "<1-200 characters>"}');
  }
  if (typeof reason === "string" && reason.startsWith(SWITCHOVER_HOLD))
    throw new CutoverError("BAD_ARGUMENT", `a pause's reason may not start with "${SWITCHOVER_HOLD}"`);
  return { timeoutMs, reason: reason ?? "cutover pause" };
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? "/", "http://admin").pathname;
  } catch {
    return "(unparsable)";
  }
}

/** The admin API's answer to a refused or failed request: status from the error table (src/errors.ts). */
function toHttpError(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof CutoverError)
    return { status: httpStatusOf(error), code: error.code, message: error.message };
  return { status: 500, code: "INTERNAL", message: (error as Error).message ?? String(error) };
}
async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new CutoverError("BODY_TOO_LARGE", `bodies are limited to ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new CutoverError("BODY_TOO_LARGE", `bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new CutoverError("BAD_JSON", `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CutoverError("BAD_JSON", "the body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
