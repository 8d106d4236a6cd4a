import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "pino";
import { CutoverError } from "../errors.js";

/** A certificate chain file and its key, as router.tls.certificates names them (paths resolved). */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * TLS 1.2 and 1.3 only, forward-secret AEAD suites only (Mozilla's "intermediate" list): no RC4, 3DES, CBC,
 * export or anonymous suites, nothing without forward secrecy. TLS 1.3's own suites are all strong.
 */
export const TLS_DEFAULTS: SecureContextOptions = {
  minVersion: "TLSv1.2",
  ciphers: [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
  ].join(":"),
  honorCipherOrder: true,
};

/** How often the files are looked at for a change (a renewed certificate is served within about this long). */
const WATCH_INTERVAL_MS = 500;

/** How often a refused handshake is logged at most (a scanner naming random hosts must not flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

interface Loaded {
  /** The certificate file's path, or the name a pair added at run time was given (put). */
  readonly label: string;
  /** Null for a pair added at run time: it is replaced by put, never read from disk again. */
  readonly files: CertificateFiles | null;
  readonly pem: { readonly cert: string; readonly key: string };
  readonly context: SecureContext;
  /** DNS names (lower case, "*.example.com" for a wildcard) and IP addresses the certificate is for. */
  readonly names: readonly string[];
  /** When the certificate expires (ms since the epoch). */
  readonly notAfter: number;
  /** The two files as they were when read (inode, size, mtime): a change is any difference. */
  readonly stamp: string;
}

/** What the metrics show of one certificate. */
export interface CertificateExpiry {
  readonly name: string;
  readonly notAfter: number;
}

/**
 * The router's certificates: one secure context each, chosen by the name the client asks for (SNI), the
 * first one for a client that asks for none or a name no certificate has. The files are watched; a
 * changed pair is loaded for new connections (open ones keep theirs), and a pair that does not load (a half-
 * written file, a key that does not match) is logged and the previous one kept. Pairs can also be added or
 * replaced at run time (ACME's, with put); the router may start before any certificate exists, and a
 * handshake for a name that has none yet is refused and logged.
 */
export class TlsCertificates {
  readonly #log: Logger;
  #loaded: Loaded[];
  /** The stamp of a pair's files (by label) when a reload last failed: tried again only once they change. */
  readonly #failed = new Map<string, string>();
  /** Names a pair will serve once it is put (an order in progress): they get no other certificate meanwhile. */
  readonly #awaited = new Map<string, readonly string[]>();
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(options: SecureContextOptions) => void>();
  #refusals = { lastLoggedAt: 0, unlogged: 0 };

  constructor(files: readonly CertificateFiles[], logger: Logger) {
    this.#log = logger.child({ component: "tls" });
    this.#loaded = files.map((f) => load(f));
  }

  /**
   * The first certificate's options: for clients that send no SNI name (tls.Server's own context). With no
   * certificate yet, the defaults alone: such a handshake fails (no certificate to offer).
   */
  get defaultOptions(): SecureContextOptions {
    const first = this.#loaded[0];
    return first ? { ...TLS_DEFAULTS, ...first.pem } : { ...TLS_DEFAULTS };
  }

  /** tls.Server's SNICallback. */
  readonly sni = (servername: string, callback: (error: Error | null, context?: SecureContext) => void) => {
    const context = this.contextFor(servername);
    if (context !== null) return callback(null, context);
    this.#logRefusal(servername);
    callback(new Error(`no certificate for ${servername} yet`));
  };

  /** The context for `servername`; null when it has none yet (it is awaited, or there is no certificate at all). */
  contextFor(servername: string): SecureContext | null {
    const name = servername.toLowerCase();
    const wildcard = `*${name.slice(name.indexOf("."))}`;
    const found =
      this.#loaded.find((l) => l.names.includes(name)) ??
      this.#loaded.find((l) => l.names.includes(wildcard));
    if (found) return found.context;
    if ([...this.#awaited.values()].some((names) => names.includes(name))) return null;
    return this.#loaded[0]?.context ?? null;
  }

  /** Called with the first certificate's options after a reload or a put (for the server's setSecureContext). */
  onReload(listener: (options: SecureContextOptions) => void): void {
    this.#listeners.add(listener);
  }

  /** Says that a pair `label` for these names is on its way: until it is put, their handshakes are refused. */
  reserve(label: string, names: readonly string[]): void {
    if (!this.#loaded.some((l) => l.label === label)) this.#awaited.set(label, names);
  }

  /**
   * Adds the pair `label`, or replaces it, for new connections from now on (open ones keep theirs). Throws
   * (and changes nothing) when the certificate and key are not a usable pair.
   */
  put(label: string, pem: { readonly cert: string; readonly key: string }): void {
    const next = fromPem(label, null, pem, "");
    const index = this.#loaded.findIndex((l) => l.label === label);
    this.#loaded =
      index === -1 ? [...this.#loaded, next] : this.#loaded.map((l, i) => (i === index ? next : l));
    this.#awaited.delete(label);
    for (const listener of this.#listeners) listener(this.defaultOptions);
  }

  /** Each certificate's first name and expiry, in the order they are chosen. */
  expiries(): CertificateExpiry[] {
    return this.#loaded.map((l) => ({ name: l.names[0] ?? l.label, notAfter: l.notAfter }));
  }

  /**
   * Starts looking at the files every WATCH_INTERVAL_MS. A pair whose files differ from what was loaded (or
   * last failed to load) is loaded again; comparing with what was read, not with a watcher's first look,
   * a change made at any moment after the load is seen.
   */
  watch(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#look(), WATCH_INTERVAL_MS);
    this.#timer.unref();
  }

  #look(): void {
    const changed = this.#loaded.some((loaded) => {
      if (loaded.files === null) return false;
      const now = stampOf(loaded.files);
      return now !== loaded.stamp && now !== this.#failed.get(loaded.label);
    });
    if (changed) this.reload();
  }

  /** Loads every pair of files again; a pair that fails keeps its previous context. */
  reload(): void {
    this.#loaded = this.#loaded.map((previous) => {
      if (previous.files === null) return previous;
      const stamp = stampOf(previous.files);
      if (stamp === previous.stamp) return previous;
      try {
        const next = load(previous.files);
        this.#failed.delete(previous.label);
        this.#log.info({ cert: previous.files.cert, names: next.names }, "certificate reloaded");
        return next;
      } catch (error) {
        this.#failed.set(previous.label, stamp);
        this.#log.error(
          { cert: previous.files.cert, err: (error as Error).message },
          "certificate not reloaded; keeping the one served",
        );
        return previous;
      }
    });
    for (const listener of this.#listeners) listener(this.defaultOptions);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #logRefusal(servername: string): void {
    const now = Date.now();
    if (now - this.#refusals.lastLoggedAt < REFUSAL_LOG_INTERVAL_MS) {
      this.#refusals.unlogged++;
      return;
    }
    const awaited = [...this.#awaited.values()].some((names) => names.includes(servername.toLowerCase()));
    this.#log.warn(
      { event: "tls-refused", servername, alsoRefused: this.#refusals.unlogged },
      awaited
        ? `TLS handshake for ${servername} refused: its certificate has not been issued yet (see the ACME lines of this log)`
        : `TLS handshake for ${servername} refused: no certificate loaded yet`,
    );
    this.#refusals = { lastLoggedAt: now, unlogged: 0 };
  }
}

/** Inode, size and mtime of a pair's two files; "gone" for a file that cannot be read. */
function stampOf(files: CertificateFiles): string {
  return [files.cert, files.key]
    .map((path) => {
      try {
        const stat = statSync(path);
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        return "gone";
      }
    })
    .join("|");
}

function load(files: CertificateFiles): Loaded {
  // Taken before reading: a write between the two is seen as a change at the next look.
  const stamp = stampOf(files);
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(files.cert, "utf8");
    key = readFileSync(files.key, "utf8");
  } catch (error) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `router.tls: cannot read ${(error as NodeJS.ErrnoException).path ?? files.cert}: ${(error as Error).message}`,
    );
  }
  return fromPem(files.cert, files, { cert, key }, stamp);
}

function fromPem(
  label: string,
  files: CertificateFiles | null,
  pem: { readonly cert: string; readonly key: string },
  stamp: string,
): Loaded {
  try {
    const context = createSecureContext({ ...TLS_DEFAULTS, ...pem });
    const certificate = new X509Certificate(pem.cert);
    const notAfter = Date.parse(certificate.validTo);
    return { label, files, pem, context, names: namesOf(certificate), notAfter, stamp };
  } catch (error) {
    const what = files ? `${files.cert} with ${files.key}` : label;
    throw new CutoverError(
      "CONFIG_INVALID",
      `router.tls: ${what} is not a usable certificate and key (${(error as Error).message}); give a PEM certificate chain and its matching PEM key`,
    );
  }
}

/** The DNS names and IP addresses of the certificate's subjectAltName (its CN when it has none). */
function namesOf(certificate: X509Certificate): string[] {
  const san = certificate.subjectAltName;
  if (san) {
    return san
      .split(/,\s*/)
      .map((entry) => entry.replace(/^(DNS|IP Address):/, "").toLowerCase())
      .filter(Boolean);
  }
  const cn = /CN=([^\n,]+)/.exec(certificate.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
