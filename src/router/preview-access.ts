import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.js";

export interface PreviewAccessOptions {
  /** The request header that carries the secret (lower case), e.g. x-cutover-preview. */
  readonly header: string;
  /** The cookie that carries it, e.g. cutover-preview. */
  readonly cookie: string;
  readonly secret: string;
}

export const PREVIEW_SECRET_FILE = "preview-secret";

/** router.previewAccess.secret, or the one kept in <stateDir>/preview-secret (made once, mode 0600). */
export function previewSecret(stateDir: string, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const path = join(stateDir, PREVIEW_SECRET_FILE);
  if (existsSync(path)) {
    const kept = readFileSync(path, "utf8").trim();
    if (kept.length >= 16) return kept;
  }
  const secret = randomBytes(24).toString("base64url");
  writeFileAtomic(path, `${secret}\n`, 0o600);
  return secret;
}

/** The path on the main listener that sets the preview cookie (?secret=...) or clears it (?off). */
export const PREVIEW_PATH = "/__cutover/preview";

/**
 * Reaching the idle colour through the main listener: a request that carries the secret in the header or
 * the cookie goes to the idle colour; one without it, or with a wrong one, never does. The secret is taken
 * out of the request before it is forwarded (the header, or the cookie from the Cookie header).
 */
export class PreviewAccess {
  readonly #o: PreviewAccessOptions;
  readonly #secret: Buffer;

  constructor(options: PreviewAccessOptions) {
    this.#o = options;
    this.#secret = Buffer.from(options.secret);
  }

  /** Whether `req` carries the right secret; takes it out of `req` either way. */
  admits(req: IncomingMessage): boolean {
    const fromHeader = this.#takeHeader(req);
    const fromCookie = this.#takeCookie(req);
    return this.#matches(fromHeader) || this.#matches(fromCookie);
  }

  /** Answers GET /__cutover/preview: sets the cookie with the right secret and sends to /, or clears it. */
  answer(req: IncomingMessage, res: ServerResponse, secure: boolean): boolean {
    const url = new URL(req.url ?? "/", "http://router");
    if (url.pathname !== PREVIEW_PATH) return false;
    const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
    if (url.searchParams.has("off")) {
      res.writeHead(303, { location: "/", "set-cookie": `${this.#o.cookie}=; Max-Age=0; ${attributes}` });
      res.end();
      return true;
    }
    if (!this.#matches(url.searchParams.get("secret") ?? undefined)) {
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("wrong or missing preview secret\n");
      return true;
    }
    res.writeHead(303, { location: "/", "set-cookie": `${this.#o.cookie}=${this.#o.secret}; ${attributes}` });
    res.end();
    return true;
  }

  #matches(value: string | undefined): boolean {
    if (value === undefined) return false;
    const given = Buffer.from(value);
    return given.length === this.#secret.length && timingSafeEqual(given, this.#secret);
  }

  #takeHeader(req: IncomingMessage): string | undefined {
    const value = req.headers[this.#o.header];
    if (value === undefined) return undefined;
    removeRaw(req, (name) => name.toLowerCase() === this.#o.header);
    delete req.headers[this.#o.header];
    return Array.isArray(value) ? value[0] : value;
  }

  #takeCookie(req: IncomingMessage): string | undefined {
    const header = req.headers.cookie;
    if (header === undefined) return undefined;
    let found: string | undefined;
    const kept = header
      .split(/;\s*/)
      .filter((pair) => {
        const at = pair.indexOf("=");
        if (at === -1 || pair.slice(0, at).trim() !== this.#o.cookie) return true;
        found ??= pair.slice(at + 1).trim();
        return false;
      })
      .join("; ");
    if (found === undefined) return undefined;
    removeRaw(req, (name) => name.toLowerCase() === "cookie");
    if (kept === "") delete req.headers.cookie;
    else {
      req.headers.cookie = kept;
      req.rawHeaders.push("Cookie", kept);
    }
    return found;
  }
}

/** Removes the raw headers whose name `drop` picks (the router forwards rawHeaders). */
function removeRaw(req: IncomingMessage, drop: (name: string) => boolean): void {
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) if (drop(raw[i] as string)) raw.splice(i, 2);
}

/** Where router.listen is reached from this machine (a wildcard host through loopback), with its scheme. */
export function listenBase(listen: { host: string; port: number }, tls: boolean): string {
  const host =
    listen.host === "0.0.0.0" || listen.host === "::" || listen.host === "" ? "127.0.0.1" : listen.host;
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${listen.port}`;
}

/** The link that sets the preview cookie: the idle colour through the main address, in a browser. */
export function previewLink(base: string, secret: string): string {
  return `${base}${PREVIEW_PATH}?secret=${encodeURIComponent(secret)}`;
}
