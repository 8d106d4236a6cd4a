import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load.js";
import type { RouterConfig } from "../config/schema.js";
import { AcmeCertificates, readDirectoryCa } from "./acme-certificates.js";
import type { DataPlane } from "./data-plane.js";
import { HaproxyRouter } from "./haproxy/haproxy-router.js";
import { PreviewAccess, previewSecret } from "./preview-access.js";
import { Router } from "./router.js";
import { RouterWorkers } from "./router-workers.js";
import { TlsCertificates } from "./tls-certificates.js";

/**
 * The data plane cutover.yaml asks for: `router.dataPlane: builtin` (default) or `haproxy`; the built-in
 * router in this process, or in `router.workers` processes sharing its listeners (router-workers.ts).
 */
export function createDataPlane(loaded: LoadedConfig, logger: Logger): DataPlane {
  const { config, dir, stateDir } = loaded;
  const { listen, preview, sticky, dataPlane, haproxy, previewAccess } = config.router;
  if (dataPlane === "builtin") {
    const workers = routerWorkerCount(config.router);
    if (workers === 1) return createBuiltinRouter(loaded, logger);
    // Made here once, so that the workers all read the same secret rather than each making its own.
    if (previewAccess) previewSecret(stateDir, previewAccess.secret);
    return new RouterWorkers({ loaded, workers, logger });
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

/** The built-in router of cutover.yaml's router section, in this process. */
export function createBuiltinRouter(loaded: LoadedConfig, logger: Logger): Router {
  const { config, dir, stateDir } = loaded;
  const { listen, preview, sticky, retry, tls, previewAccess, upstreamProtocol, warmConnections } =
    config.router;
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

/** router.workers as a number of processes: `auto` is one per CPU the process may use. */
export function routerWorkerCount(router: Pick<RouterConfig, "workers">): number {
  return router.workers === "auto" ? Math.max(1, availableParallelism()) : router.workers;
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
