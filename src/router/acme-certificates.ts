import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Address } from "../config/address.js";
import { formatDuration } from "../duration.js";
import { CutoverError } from "../errors.js";
import { AcmeChallenges } from "./acme-challenges.js";
import { AcmeOrderError, type OrderStage, orderCertificate } from "./acme-order.js";
import { AcmeStore, type PemPair } from "./acme-store.js";
import type { TlsCertificates } from "./tls-certificates.js";

/** The name ACME's pair has among the router's certificates. */
const LABEL = "acme";

export interface AcmeOptions {
  readonly domains: readonly string[];
  readonly email: string | null;
  readonly directory: string;
  /** PEM roots trusted for the directory's HTTPS besides Node's own (a private CA); null: none. */
  readonly directoryCa: string | null;
  /** Renew when the certificate has less than this left. */
  readonly renewBeforeMs: number;
  /** Where the account key and the certificate are kept (under acme/). */
  readonly stateDir: string;
  /** Where the http-01 challenge is answered (tls.redirectHttp), for the log lines. */
  readonly challengeListener: Address;
  /**
   * How the log lines name the config: the acme block ("router.tls.acme", or the edge's "tls.acme") and the
   * listener the CA reaches ("router.tls.redirectHttp", or the edge's "listen"). Default: the router's.
   */
  readonly fields?: { readonly acme: string; readonly challengeListener: string };
  readonly tls: TlsCertificates;
  readonly logger: Logger;
  /** How often the certificate is looked at for renewal. Default 12 h (tests shorten it). */
  readonly checkIntervalMs?: number;
  /**
   * The wait after a first failure; it doubles with each failure in a row, up to retryMaxMs. Default 10 min:
   * Let's Encrypt allows 5 failed validations per name and hour, and 10, 20, 40, 60 min stay under it.
   */
  readonly retryMinMs?: number;
  /** Default 1 h: Let's Encrypt allows 5 failed validations per name and hour. */
  readonly retryMaxMs?: number;
  /** Longest wait for one answer of the CA. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** First wait between two looks at a pending challenge or order. Default 1 s. */
  readonly pollMs?: number;
}

/** What is known of the certificate served. */
interface Served {
  readonly serial: string;
  readonly notAfter: number;
}

/**
 * router.tls.acme: one certificate for `domains`, ordered from an ACME CA in the background and renewed
 * before it expires, served through TlsCertificates. A kept certificate for the same names is served at once
 * at start; one that is missing or due is ordered, and a failed order is logged (with what to do) and tried
 * again with a growing wait while the previous certificate, if any, keeps serving. The CA checks each name
 * on the router's plain HTTP listener, which answers from `challenges`.
 */
export class AcmeCertificates {
  readonly challenges = new AcmeChallenges();
  readonly #o: AcmeOptions;
  readonly #store: AcmeStore;
  readonly #log: Logger;
  #served: Served | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: AcmeOptions) {
    this.#o = options;
    this.#store = new AcmeStore(options.stateDir, options.directory);
    this.#log = options.logger.child({ component: "acme" });
  }

  /** Serves the kept certificate, if any, and starts ordering or watching for renewal. Never throws. */
  start(): void {
    this.#closed = false;
    this.#o.tls.reserve(LABEL, this.#o.domains);
    this.#serveKept();
    if (this.#served !== null && !this.#due(this.#served)) this.#schedule(this.#checkIntervalMs);
    else this.#schedule(0);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #serveKept(): void {
    let kept: PemPair | null;
    try {
      kept = this.#store.readCertificate();
    } catch (error) {
      this.#log.error(
        { event: "acme-kept-unreadable", folder: this.#store.folder, err: (error as Error).message },
        `the kept certificate in ${this.#store.folder} cannot be read; ordering a new one (check the folder's owner and mode)`,
      );
      return;
    }
    if (kept === null) return;
    const names = namesOf(kept.cert);
    if (!sameNames(names, this.#o.domains)) {
      this.#log.info(
        { event: "acme-kept-other-names", kept: names, domains: this.#o.domains },
        `the kept certificate is for ${names.join(", ")}, ${this.#acme}.domains asks for ${this.#o.domains.join(", ")}: ordering a new one`,
      );
      return;
    }
    let served: Served;
    try {
      served = this.#serve(kept);
    } catch (error) {
      this.#log.error(
        { event: "acme-kept-unusable", path: this.#store.certificatePath, err: (error as Error).message },
        "the kept certificate and key do not load (a write cut short?); ordering a new one",
      );
      return;
    }
    this.#log.info(
      { event: "acme-kept", serial: served.serial, notAfter: iso(served.notAfter), domains: this.#o.domains },
      `serving the kept certificate for ${this.#o.domains.join(", ")} (expires ${iso(served.notAfter)})${this.#due(served) ? "; it is due for renewal, which starts now" : ""}`,
    );
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#check(), delayMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    if (this.#served !== null && !this.#due(this.#served)) return this.#schedule(this.#checkIntervalMs);
    const renewal = this.#served !== null;
    const { domains, directory } = this.#o;
    this.#log.info(
      { event: "acme-order", domains, directory, renewal },
      renewal
        ? `renewing the certificate for ${domains.join(", ")} (expires ${iso((this.#served as Served).notAfter)}) from ${directory}`
        : `ordering a certificate for ${domains.join(", ")} from ${directory}; the CA checks each name on ${where(this.#o.challengeListener)} (http-01)`,
    );
    let pair: PemPair;
    try {
      pair = await orderCertificate({
        directory,
        domains,
        email: this.#o.email,
        accountKey: await this.#store.accountKey(),
        challenges: this.challenges,
        directoryCa: this.#o.directoryCa,
        requestTimeoutMs: this.#o.requestTimeoutMs ?? 30_000,
        pollMs: this.#o.pollMs ?? 1_000,
        onTerms: (url) =>
          this.#log.info(
            { event: "acme-terms", terms: url },
            `the ACME account agrees to the CA's terms of service${url ? `: ${url}` : ""} (configuring ${this.#acme} is agreeing to them)`,
          ),
      });
    } catch (error) {
      return this.#failed(error);
    }
    if (this.#closed) return;
    let served: Served;
    try {
      served = this.#serve(pair);
    } catch (error) {
      return this.#failed(new AcmeOrderError("finalize", error));
    }
    const kept = this.#keep(pair);
    this.#failures = 0;
    this.#logIssued(served, renewal, kept);
    this.#schedule(this.#checkIntervalMs);
  }

  /** Writes the pair to the store; false (logged) when it could not. */
  #keep(pair: PemPair): boolean {
    try {
      this.#store.saveCertificate(pair);
      return true;
    } catch (error) {
      this.#log.error(
        { event: "acme-not-kept", folder: this.#store.folder, err: (error as Error).message },
        `the new certificate is served but could not be written to ${this.#store.folder}: a restart will order it again (free disk space or fix the folder's mode)`,
      );
      return false;
    }
  }

  #serve(pair: PemPair): Served {
    this.#o.tls.put(LABEL, pair);
    const certificate = new X509Certificate(pair.cert);
    this.#served = { serial: certificate.serialNumber, notAfter: Date.parse(certificate.validTo) };
    return this.#served;
  }

  #logIssued(served: Served, renewal: boolean, kept: boolean): void {
    const left = served.notAfter - Date.now();
    this.#log.info(
      {
        event: renewal ? "acme-renewed" : "acme-issued",
        serial: served.serial,
        notAfter: iso(served.notAfter),
      },
      `certificate ${renewal ? "renewed" : "issued"} for ${this.#o.domains.join(", ")}: serial ${served.serial}, expires ${iso(served.notAfter)}${kept ? `, kept in ${this.#store.certificatePath}` : ""}`,
    );
    if (left < this.#o.renewBeforeMs)
      this.#log.warn(
        { event: "acme-renew-before-too-long", renewBeforeMs: this.#o.renewBeforeMs, lifetimeMs: left },
        `${this.#acme}.renewBefore (${inDays(this.#o.renewBeforeMs)}) is longer than the certificate's lifetime (${inDays(left)}): it is renewed at every check; shorten renewBefore`,
      );
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#failures++;
    const min = this.#o.retryMinMs ?? 600_000;
    const delay = Math.min(min * 2 ** (this.#failures - 1), this.#o.retryMaxMs ?? 3_600_000);
    const message = error instanceof Error ? error.message : String(error);
    const advice =
      error instanceof AcmeOrderError
        ? this.#advice(error.stage, message)
        : `certificate order failed: the ACME account key cannot be kept in ${this.#store.folder} (${message}); fix the folder's owner and mode, or free disk space`;
    const served = this.#served;
    const meanwhile = served
      ? `the current certificate (expires ${iso(served.notAfter)}) keeps serving`
      : `until then, HTTPS handshakes for ${this.#o.domains.join(", ")} are refused`;
    this.#log.error(
      {
        event: "acme-failed",
        stage: error instanceof AcmeOrderError ? error.stage : "account-key",
        failures: this.#failures,
        retryInMs: delay,
        err: message,
      },
      `${advice}; trying again in ${formatDuration(delay)}; ${meanwhile}`,
    );
    this.#schedule(delay);
  }

  /** What went wrong at `stage`, in the CA's words, and what to do about it. */
  #advice(stage: OrderStage, message: string): string {
    const { directory, domains } = this.#o;
    const names = domains.join(", ");
    switch (stage) {
      case "directory":
        return `certificate order failed: the ACME directory ${directory} could not be read (${message}); check ${this.#acme}.directory, and that this machine reaches it over HTTPS (proxy, firewall, or for a private CA its root in directoryCa)`;
      case "account":
        return `certificate order failed: the CA refused the account (${message}); check ${this.#acme}.email`;
      case "order":
        return `certificate order failed: the CA refused to issue for ${names} (${message}); ${this.#acme}.domains must be public DNS names the CA issues for, within its rate limits`;
      case "validation":
        return `certificate order failed: the CA could not check ${names} over http-01 (${message}); each name's DNS must point at this machine, and port 80 there must reach ${this.#o.fields?.challengeListener ?? "router.tls.redirectHttp"} (${where(this.#o.challengeListener)})`;
      case "finalize":
        return `certificate order failed: the CA validated ${names} but did not issue the certificate (${message})`;
    }
  }

  /** The acme block's name in the config, for log lines. */
  get #acme(): string {
    return this.#o.fields?.acme ?? "router.tls.acme";
  }

  #due(served: Served): boolean {
    return served.notAfter - Date.now() < this.#o.renewBeforeMs;
  }

  get #checkIntervalMs(): number {
    return this.#o.checkIntervalMs ?? 12 * 3_600_000;
  }
}

function namesOf(cert: string): string[] {
  try {
    const san = new X509Certificate(cert).subjectAltName ?? "";
    return san
      .split(/,\s*/)
      .filter((entry) => entry.startsWith("DNS:"))
      .map((entry) => entry.slice(4).toLowerCase());
  } catch {
    return [];
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((name) => left.has(name));
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Lifetimes are days long: "90d" reads better than formatDuration's minutes ("129600m0s"). */
const inDays = (ms: number) =>
  ms >= 2 * 86_400_000 ? `${Math.round(ms / 86_400_000)}d` : formatDuration(ms);
const where = (address: Address) => `${address.host}:${address.port}`;

/** acme.directoryCa's PEM file; a file that cannot be read is a config error naming `field`. */
export function readDirectoryCa(path: string, field: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `${field}: cannot read ${path}: ${(error as Error).message}; name the PEM file of the root that signs your ACME server's HTTPS certificate`,
    );
  }
}
