import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AdminHandler } from "./admin-handler.js";
import { PAGE_HTML } from "./page-shell.js";
import { PAGE_CSS } from "./page-styles.js";

export const DASHBOARD_PREFIX = "/dashboard/";

/** The compiled browser modules, next to this file once built (dist/src/dashboard/web). */
const WEB_DIR = fileURLToPath(new URL("./web/", import.meta.url));
const MODULE = /^[a-z][a-z0-9-]*\.js(\.map)?$/;

/**
 * Only code and layout: the page can be fetched by anyone who reaches the admin port, so nothing here may
 * hold data. The policy keeps the page to its own origin; inline styles are allowed for the HTML reports
 * the page opens (they inherit it), inline scripts are not.
 */
const HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

export interface DashboardFilesOptions {
  /** Where the compiled browser modules are; default: web/ beside this module. */
  readonly webDir?: string;
  /** The page shell and its styles; default: the service dashboard's (the fleet dashboard has its own). */
  readonly page?: { readonly html: string; readonly css: string };
}

/** The `publicFiles` of the admin server (or the fleet dashboard's): the page shell, its styles and its browser modules. */
export function dashboardFiles(options: DashboardFilesOptions = {}): {
  readonly prefix: string;
  readonly serve: AdminHandler;
} {
  const dir = options.webDir ?? WEB_DIR;
  const { html, css } = options.page ?? { html: PAGE_HTML, css: PAGE_CSS };
  const cache = new Map<string, Buffer>();
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    const name = path.slice(DASHBOARD_PREFIX.length);
    if (!path.startsWith(DASHBOARD_PREFIX)) return send(res, 404, "text/plain", "not found\n");
    if (name === "" || name === "index.html") return send(res, 200, "text/html; charset=utf-8", html);
    if (name === "style.css") return send(res, 200, "text/css; charset=utf-8", css);
    if (!MODULE.test(name)) return send(res, 404, "text/plain", "not found\n");
    let body = cache.get(name);
    if (body === undefined) {
      try {
        body = await readFile(join(dir, name));
      } catch {
        return send(res, 404, "text/plain", "not found (is the dashboard built? npm run build)\n");
      }
      cache.set(name, body);
    }
    send(res, 200, name.endsWith(".map") ? "application/json" : "text/javascript; charset=utf-8", body);
  };
  return { prefix: DASHBOARD_PREFIX, serve };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
