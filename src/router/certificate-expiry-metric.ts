import { Gauge, type Registry } from "prom-client";
import type { TlsCertificates } from "./tls-certificates.js";

/**
 * cutover_tls_certificate_expiry_seconds{name}: when each certificate the router serves expires (Unix time,
 * like blackbox_exporter's probe_ssl_earliest_cert_expiry), read at scrape time, so that an alert can fire
 * long before a renewal that keeps failing (or a file nobody renewed) turns into refused handshakes.
 */
export function registerCertificateExpiry(registry: Registry, tls: TlsCertificates): void {
  new Gauge({
    name: "cutover_tls_certificate_expiry_seconds",
    help: "When each certificate served expires (Unix time, seconds), by the first name it is for",
    labelNames: ["name"] as const,
    registers: [registry],
    // Router workers (router.workers) serve the same files; the earliest expiry is the one that matters.
    aggregator: "min",
    collect() {
      this.reset();
      for (const certificate of tls.expiries())
        this.set({ name: certificate.name }, certificate.notAfter / 1000);
    },
  });
}
