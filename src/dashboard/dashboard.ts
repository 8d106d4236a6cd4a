import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import type { AdminHandler } from "./admin-handler.js";
import { dashboardFiles } from "./dashboard-files.js";
import type { DeployFeed, TickFeed } from "./deploy-feed.js";
import { LiveHub } from "./live-hub.js";
import type { LiveAddresses } from "./live-message.js";
import { ReportShelf } from "./report-shelf.js";

export const LIVE_PATH = "/dashboard-api/live";
export const REPORT_PATH = "/dashboard-api/report";

export interface DashboardOptions {
  readonly engine: DeployFeed;
  /** The per-colour sampler the charts draw; null: no charts. */
  readonly ticks: TickFeed | null;
  /** The folder the deploy reports are written to; null: no reports. */
  readonly reportsDir: string | null;
  readonly addresses: LiveAddresses;
  readonly logger: Logger;
  /** Where the compiled browser modules are; default: beside the built dashboard. */
  readonly webDir?: string;
}

/**
 * The web dashboard, served by the admin server: a page shell and scripts without the token
 * (`files`), and behind it one live NDJSON stream and the deploy reports (`routes`). The page's actions use
 * the admin API's own POST /promote, /abort and /rollback.
 */
export class Dashboard {
  readonly routes: ReadonlyMap<string, AdminHandler>;
  readonly files: ReturnType<typeof dashboardFiles>;
  readonly #hub: LiveHub;
  readonly #shelf: ReportShelf | null;

  constructor(options: DashboardOptions) {
    this.#shelf = options.reportsDir === null ? null : new ReportShelf(options.reportsDir);
    this.#hub = new LiveHub({
      engine: options.engine,
      ticks: options.ticks,
      reports: this.#shelf,
      addresses: options.addresses,
      logger: options.logger.child({ component: "dashboard" }),
    });
    this.files = dashboardFiles(options.webDir === undefined ? {} : { webDir: options.webDir });
    this.routes = new Map<string, AdminHandler>([
      [`GET ${LIVE_PATH}`, async (req, res) => this.#hub.attach(req, res)],
      [`GET ${REPORT_PATH}`, (req, res) => this.#report(req, res)],
    ]);
  }

  /** Pages open now. */
  get viewers(): number {
    return this.#hub.clients;
  }

  /** Ends the live streams (call before the admin server closes). */
  close(): void {
    this.#hub.close();
  }

  /** GET /dashboard-api/report?deploy=<id>&file=<name>: one report file, as the page lists them. */
  async #report(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? "/", "http://admin").searchParams;
    const found = this.#shelf?.find(query.get("deploy") ?? "", query.get("file") ?? "") ?? null;
    if (found === null) {
      const body = `${JSON.stringify({ error: "NOT_FOUND", message: "no such report" })}\n`;
      res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(200, {
      "content-type": found.contentType,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // Opened directly, a report may not run scripts or reach the admin API.
      "content-security-policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
    await pipeline(createReadStream(found.path), res);
  }
}
