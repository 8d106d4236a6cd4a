import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "selfsigned";
import type { BenchCertificate } from "./nginx-target.js";

/** One self-signed EC P-256 certificate for 127.0.0.1, which both HTTPS targets serve. */
export async function benchCertificate(dir: string): Promise<BenchCertificate> {
  const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  const cert = join(dir, "bench-cert.pem");
  const key = join(dir, "bench-key.pem");
  writeFileSync(cert, pems.cert);
  writeFileSync(key, pems.private, { mode: 0o600 });
  return { cert, key };
}
