import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { RouterConfig } from "../config/schema.js";
import { AcmeCertificates, readDirectoryCa } from "./acme-certificates.js";
import type { DataPlane } from "./data-plane.js";
import { HaproxyRouter } from "./haproxy/haproxy-router.js";
import { PreviewAccess, previewSecret } from "./preview-access.js";
import { Router } from "./router.js";
import { TlsCertificates } from "./tls-certificates.js";

/** The data plane cutover.yaml asks for: `router.dataPlane: builtin` (default) or `haproxy`. */
export function createDataPlane(loaded: LoadedConfig, logger: Logger): DataPlane {
  const { config, dir, stateDir } = loaded;
  const { listen, preview, sticky, dataPlane, haproxy, retry, tls } = config.router;
  const { previewAccess, upstreamProtocol, warmConnections } = config.router;
  if (dataPlane === "builtin") {
    const files = tls?.certificates?.map((c) => ({ cert: resolve(dir, c.cert), key: resolve(dir, c.key) }));
    const certificates = tls ? new TlsCertificates(files ?? [], logger) : null;
    return new Router({
      tls: certificates,
      redirectHttp: tls?.redirectHttp ?? null,
      acme: tls?.acme && certificates ? acmeCertificates(tls, certificates, loaded, logger) : null,
      previewAccess: previewAccess
        ? new PreviewAccess({ ...previewAccess, secret: previewSecret(stateDir, previewAccess.secret) })
        : null,
      listen,
      preview,
      sticky,
      initialActive: "blue",
      logger,
      retry: { idempotencyHeader: retry.idempotencyHeader || null, maxBodyBytes: retry.maxBodyBytes },
      upstreamProtocol,
      warmConnections,
    });
  }
  return new HaproxyRouter({
    listen,
    preview,
    sticky,
    initialActive: "blue",
    slots: haproxy.slots ?? config.replicas * 2,
    prefix: haproxy.prefix ?? config.service,
    logger,
    haproxy: haproxy.socket
      ? { kind: "attach", socket: resolve(dir, haproxy.socket) }
      : {
          kind: "start",
          dir: join(stateDir, "haproxy"),
          binary: haproxy.binary,
          threads: haproxy.threads ?? null,
        },
  });
}

/** router.tls.acme's certificates, into `certificates`; its state under stateDir/acme/. */
function acmeCertificates(
  tls: NonNullable<RouterConfig["tls"]>,
  certificates: TlsCertificates,
  loaded: LoadedConfig,
  logger: Logger,
): AcmeCertificates | null {
  const { acme, redirectHttp } = tls;
  if (!acme || !redirectHttp) return null; // the schema refuses acme without redirectHttp
  return new AcmeCertificates({
    domains: acme.domains,
    email: acme.email ?? null,
    directory: acme.directory,
    directoryCa: acme.directoryCa
      ? readDirectoryCa(resolve(loaded.dir, acme.directoryCa), "router.tls.acme.directoryCa")
      : null,
    renewBeforeMs: acme.renewBefore,
    stateDir: loaded.stateDir,
    challengeListener: redirectHttp,
    tls: certificates,
    logger,
  });
}
