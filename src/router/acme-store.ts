import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/atomic-write.js";

/** A certificate chain and its private key, PEM. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

const ACCOUNT_KEY = "account-key.pem";
const CERTIFICATE = "cert.pem";
const CERTIFICATE_KEY = "key.pem";

/**
 * What router.tls.acme keeps between runs, in stateDir/acme/<directory>/ (a folder per CA, so that a
 * certificate from a test CA is never served once the directory points at a real one): the ACME account's
 * key and the last certificate issued with its key. The folder is 0700, the keys 0600; every file is
 * replaced whole (temporary file, fsync, rename), the key before the certificate, so a crash between the two
 * leaves a pair that does not match, which is refused at the next start and ordered again.
 */
export class AcmeStore {
  readonly folder: string;

  constructor(stateDir: string, directory: string) {
    this.folder = join(stateDir, "acme", folderName(directory));
  }

  /** The account key, made (ECDSA P-256) and kept on first use. */
  async accountKey(): Promise<string> {
    const path = join(this.folder, ACCOUNT_KEY);
    const kept = readIfThere(path);
    if (kept !== null) return kept;
    const acme = await import("acme-client");
    const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
    this.#prepare();
    writeFileAtomic(path, key, 0o600);
    return key;
  }

  /** The certificate kept by the last save; null when there is none (or only half of it). */
  readCertificate(): PemPair | null {
    const key = readIfThere(join(this.folder, CERTIFICATE_KEY));
    const cert = readIfThere(join(this.folder, CERTIFICATE));
    return key === null || cert === null ? null : { cert, key };
  }

  saveCertificate(pair: PemPair): void {
    this.#prepare();
    writeFileAtomic(join(this.folder, CERTIFICATE_KEY), pair.key, 0o600);
    writeFileAtomic(join(this.folder, CERTIFICATE), pair.cert, 0o644);
  }

  /** Where the certificate is kept, for log lines that tell an operator where to look. */
  get certificatePath(): string {
    return join(this.folder, CERTIFICATE);
  }

  #prepare(): void {
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing folder's mode alone: one made by hand, or by an older cutover, is closed here.
    chmodSync(join(this.folder, ".."), 0o700);
    chmodSync(this.folder, 0o700);
  }
}

/** "https://acme-v02.api.letsencrypt.org/directory" -> "acme-v02.api.letsencrypt.org_directory". */
function folderName(directory: string): string {
  const url = new URL(directory);
  return `${url.host}${url.pathname}`.replace(/[^A-Za-z0-9.-]+/g, "_").replace(/_+$/, "");
}

function readIfThere(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
