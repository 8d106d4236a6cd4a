import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { CutoverError, httpStatusOf } from "../errors.js";
import type { FrontMetrics } from "./front-metrics.js";
import type { FrontRegions } from "./front-regions.js";

export interface FrontAdminOptions {
  readonly token: string;
  readonly regions: FrontRegions;
  readonly metrics: FrontMetrics;
  readonly logger: Logger;
}

const REGION_ACTION = /^\/regions\/([^/]+)\/(drain|restore)$/;

/**
 * The front's admin API, every endpoint but GET /health behind `Authorization: Bearer <token>`:
 * GET /regions, POST /regions/<name>/drain, POST /regions/<name>/restore (each answers the region's new
 * state), GET /metrics (Prometheus text). Errors are {error, message} with the status of src/errors.ts.
 */
export function createFrontAdmin(options: FrontAdminOptions): Server {
  const token = Buffer.from(options.token);
  const authorised = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    return given.length === token.length && timingSafeEqual(given, token);
  };
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://front").pathname;
    // The body of a POST is not read: these endpoints take none.
    req.resume();
    answer(req, res, path, authorised, options).catch((error: unknown) => {
      if (httpStatusOf(error) >= 500)
        options.logger.error({ err: error, path }, "front admin request failed");
      const code = error instanceof CutoverError ? error.code : "INTERNAL";
      if (code === "UNAUTHORISED") res.setHeader("www-authenticate", 'Bearer realm="cutover-global-front"');
      sendJson(res, httpStatusOf(error), { error: code, message: (error as Error).message });
    });
  });
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  authorised: (req: IncomingMessage) => boolean,
  { regions, metrics, logger }: FrontAdminOptions,
): Promise<void> {
  if (req.method === "GET" && path === "/health") return sendJson(res, 200, { status: "ok" });
  if (!authorised(req))
    throw new CutoverError(
      "UNAUTHORISED",
      "missing or wrong bearer token; it is globalFront.token, or the token file in the front's state folder (.cutover/global-front/token)",
    );
  const action = REGION_ACTION.exec(path);
  if (action !== null) {
    onlyMethod(req, "POST", path);
    const [, name, verb] = action as unknown as [string, string, "drain" | "restore"];
    const state = regions.setEnabled(name, verb === "restore");
    logger.info(
      { region: state.region, enabled: state.enabled, healthy: state.healthy },
      verb === "drain" ? "region drained" : "region restored",
    );
    return sendJson(res, 200, state);
  }
  if (path === "/regions") {
    onlyMethod(req, "GET", path);
    return sendJson(res, 200, regions.states());
  }
  if (path === "/metrics") {
    onlyMethod(req, "GET", path);
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(text);
    return;
  }
  throw new CutoverError(
    "NOT_FOUND",
    `no such endpoint: ${path}; the front answers /regions, /metrics and /health`,
  );
}

function onlyMethod(req: IncomingMessage, method: string, path: string): void {
  if (req.method !== method)
    throw new CutoverError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}; use ${method}`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
