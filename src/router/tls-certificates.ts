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

interface Loaded {
  readonly files: CertificateFiles;
  readonly pem: { readonly cert: string; readonly key: string };
  readonly context: SecureContext;
  /** DNS names (lower case, "*.example.com" for a wildcard) and IP addresses the certificate is for. */
  readonly names: readonly string[];
  /** The two files as they were when read (inode, size, mtime): a change is any difference. */
  readonly stamp: string;
}

/**
 * The router's certificates: one secure context each, chosen by the name the client asks for (SNI), the
 * first one for a client that asks for none or a name no certificate has. The files are watched; a
 * changed pair is loaded for new connections (open ones keep theirs), and a pair that does not load (a half-
 * written file, a key that does not match) is logged and the previous one kept.
 */
export class TlsCertificates {
  readonly #files: readonly CertificateFiles[];
  readonly #log: Logger;
  #loaded: Loaded[];
  /** The stamp of each pair's files when a reload last failed: tried again only once they change again. */
  #failed: (string | null)[];
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(options: SecureContextOptions) => void>();

  constructor(files: readonly CertificateFiles[], logger: Logger) {
    if (files.length === 0) throw new CutoverError("CONFIG_INVALID", "router.tls.certificates is empty");
    this.#files = files;
    this.#log = logger.child({ component: "tls" });
    this.#loaded = files.map((f) => load(f));
    this.#failed = files.map(() => null);
  }

  /** The first certificate's options: for clients that send no SNI name (tls.Server's own context). */
  get defaultOptions(): SecureContextOptions {
    return { ...TLS_DEFAULTS, ...(this.#loaded[0] as Loaded).pem };
  }

  /** tls.Server's SNICallback. */
  readonly sni = (servername: string, callback: (error: Error | null, context?: SecureContext) => void) => {
    callback(null, this.contextFor(servername));
  };

  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const wildcard = `*${name.slice(name.indexOf("."))}`;
    const found =
      this.#loaded.find((l) => l.names.includes(name)) ??
      this.#loaded.find((l) => l.names.includes(wildcard));
    return (found ?? (this.#loaded[0] as Loaded)).context;
  }

  /** Called with the first certificate's options after a reload (for the server's setSecureContext). */
  onReload(listener: (options: SecureContextOptions) => void): void {
    this.#listeners.add(listener);
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
    const changed = this.#loaded.some((loaded, index) => {
      const now = stampOf(loaded.files);
      return now !== loaded.stamp && now !== this.#failed[index];
    });
    if (changed) this.reload();
  }

  /** Loads every pair again; a pair that fails keeps its previous context. */
  reload(): void {
    this.#loaded = this.#loaded.map((previous, index) => {
      const stamp = stampOf(previous.files);
      if (stamp === previous.stamp) return previous;
      try {
        const next = load(previous.files);
        this.#failed[index] = null;
        this.#log.info({ cert: previous.files.cert, names: next.names }, "certificate reloaded");
        return next;
      } catch (error) {
        this.#failed[index] = stamp;
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
  let context: SecureContext;
  let names: string[];
  try {
    context = createSecureContext({ ...TLS_DEFAULTS, cert, key });
    names = namesOf(new X509Certificate(cert));
  } catch (error) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `router.tls: ${files.cert} with ${files.key} is not a usable certificate and key (${(error as Error).message}); give a PEM certificate chain and its matching PEM key`,
    );
  }
  return { files, pem: { cert, key }, context, names, stamp };
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
