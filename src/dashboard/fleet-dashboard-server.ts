import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Address } from "../config/address.js";
import { isLoopbackUrl } from "../config/fleet-schema.js";
import { CutoverError } from "../errors.js";
import type { FleetView } from "../fleet/model/fleet-view.js";
import { httpUrl } from "../host-port.js";
import { DASHBOARD_PREFIX, dashboardFiles } from "./dashboard-files.js";
import { dashboardUrl } from "./dashboard-url.js";
import { FLEET_PAGE_CSS, FLEET_PAGE_HTML } from "./fleet-page.js";

/** The fleet view, behind the token; the page asks for it every 2 s. */
export const FLEET_API_PATH = "/dashboard-api/fleet";

export interface FleetDashboardOptions {
  /** Loopback only; port 0 picks a free one. */
  readonly listen: Address;
  /** Reads every region and the fleet deploy; called at most once at a time, however many pages ask. */
  readonly read: () => Promise<FleetView>;
  /** Default: 32 random bytes, new at every start. */
  readonly token?: string;
  /** Where the compiled browser modules are; default: beside the built dashboard. */
  readonly webDir?: string;
  readonly logger: Logger;
}

/**
 * The fleet dashboard `cutover dashboard` runs in the foreground on a fleet: the page shell and scripts
 * without the token, the fleet view with it. It listens on loopback only: the view names every region's
 * admin address, and the token travels in clear.
 */
export class FleetDashboardServer {
  readonly #o: FleetDashboardOptions;
  readonly #token: Buffer;
  readonly #files: ReturnType<typeof dashboardFiles>;
  readonly #server: Server;
  #reading: Promise<FleetView> | null = null;
  #base = "";

  private constructor(options: FleetDashboardOptions) {
    this.#o = options;
    this.#token = Buffer.from(options.token ?? randomBytes(32).toString("hex"));
    this.#files = dashboardFiles({
      page: { html: FLEET_PAGE_HTML, css: FLEET_PAGE_CSS },
      ...(options.webDir === undefined ? {} : { webDir: options.webDir }),
    });
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  static async start(options: FleetDashboardOptions): Promise<FleetDashboardServer> {
    requireLoopback(options.listen);
    const server = new FleetDashboardServer(options);
    await server.#listen();
    return server;
  }

  /** The page's address with the token in the #fragment, as `cutover dashboard` prints it. */
  get url(): string {
    return dashboardUrl(this.#base, this.#token.toString());
  }

  /** "http://127.0.0.1:PORT" */
  get base(): string {
    return this.#base;
  }

  get token(): string {
    return this.#token.toString();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #listen(): Promise<void> {
    const { host, port } = this.#o.listen;
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new CutoverError(
            "BAD_ARGUMENT",
            `the fleet dashboard cannot listen on ${httpUrl(this.#o.listen)} (${error.code ?? error.message}); choose another --listen host:port, or leave it out for a free port`,
          ),
        ),
      );
      this.#server.listen({ host, port }, resolve);
    });
    this.#base = httpUrl({ host, port: (this.#server.address() as AddressInfo).port });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://fleet").pathname;
    if (req.method !== "GET") return sendJson(res, 405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed`);
    if (path === "/") {
      res.writeHead(302, { location: DASHBOARD_PREFIX }).end();
      return;
    }
    if (path.startsWith(DASHBOARD_PREFIX)) return this.#files.serve(req, res, undefined);
    if (path !== FLEET_API_PATH) return sendJson(res, 404, "NOT_FOUND", `no such endpoint: ${path}`);
    if (!this.#authorised(req)) {
      res.setHeader("www-authenticate", 'Bearer realm="cutover fleet dashboard"');
      return sendJson(
        res,
        401,
        "UNAUTHORISED",
        "missing or wrong bearer token; open the link `cutover dashboard` printed (the token is after the #)",
      );
    }
    try {
      const view = await this.#view();
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(view));
    } catch (error) {
      this.#o.logger.error({ err: error }, "fleet view failed");
      sendJson(res, 500, "FLEET_VIEW_FAILED", (error as Error).message);
    }
  }

  /** One read of the fleet shared by every page that asks while it runs. */
  #view(): Promise<FleetView> {
    this.#reading ??= this.#o.read().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  #authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }
}

function requireLoopback(listen: Address): void {
  if (isLoopbackUrl(httpUrl(listen))) return;
  throw new CutoverError(
    "BAD_ARGUMENT",
    `--listen ${httpUrl(listen).slice("http://".length)}: the fleet dashboard listens on loopback only (127.0.0.1, ::1 or localhost), since it serves every region's state over plain http; to see it from another machine, forward the port (e.g. ssh -L 8090:127.0.0.1:8090 this-host)`,
  );
}

function sendJson(res: ServerResponse, status: number, error: string, message: string): void {
  const body = `${JSON.stringify({ error, message })}\n`;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}
