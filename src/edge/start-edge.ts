import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Address } from "../config/address.js";
import { ConfigError, CutoverError } from "../errors.js";
import { hostPort } from "../host-port.js";
import { AcmeCertificates, readDirectoryCa } from "../router/acme-certificates.js";
import { registerCertificateExpiry } from "../router/certificate-expiry-metric.js";
import { InFlightSet } from "../router/in-flight-set.js";
import { closeServer, trackConnections } from "../router/listen.js";
import { TlsCertificates } from "../router/tls-certificates.js";
import { createTlsServer } from "../router/tls-server.js";
import { listenEdge } from "./edge-listen.js";
import { EdgeMetrics } from "./edge-metrics.js";
import { createMetricsServer } from "./edge-metrics-server.js";
import { EdgeProxy } from "./edge-proxy.js";
import { EdgeService } from "./edge-service.js";
import { ConnectionTracker, closeAtOnce, closeGracefully } from "./graceful-close.js";
import { requestHost } from "./host-routes.js";
import type { EdgeSettings } from "./load-edge-config.js";

export interface RunningEdge {
  /** Where plain HTTP is served (the port actually bound); null without listen:. */
  readonly http: Address | null;
  /** Where HTTPS is served; null without tls:. */
  readonly https: Address | null;
  readonly metrics: Address | null;
  /** Stops accepting, lets requests in flight finish (up to drainTimeout), then closes everything. */
  close(): Promise<void>;
}

interface Listener {
  readonly server: Server;
  readonly address: Address;
  readonly field: string;
}

/** Starts `cutover edge`: its listeners, one pool per service's router, and the metrics listener. */
export async function startEdge(settings: EdgeSettings, logger: Logger): Promise<RunningEdge> {
  const services = settings.services.map((service) => new EdgeService(service));
  const inFlight = new InFlightSet();
  const metrics = new EdgeMetrics(() => inFlight.size);
  const proxy = new EdgeProxy(services, metrics, inFlight);
  const tls = settings.tls === null ? null : certificatesOf(settings, logger);
  const acme = tls === null ? null : acmeOf(settings, tls, logger);
  if (tls !== null) registerCertificateExpiry(metrics.registry, tls);
  const connections = new ConnectionTracker();
  const bound = new Map<string, Address>();
  const listeners: Listener[] = [];
  if (settings.tls !== null && tls !== null) {
    // An HTTP/2 server cannot close its own connections (no closeAllConnections): closeServer needs them tracked.
    const secure = createTlsServer(tls, proxy.handle, logger) as unknown as Server;
    trackConnections(secure);
    secure.on("upgrade", proxy.upgrade);
    listeners.push({ server: secure, address: settings.tls.listen, field: "tls.listen" });
  }
  if (settings.listen !== null) {
    const redirect = settings.tls?.redirectHttp === true;
    // requestTimeout 0: an upload may take as long as it takes (the router's own listener does the same).
    const handle = redirect ? redirectToHttps(bound) : proxy.handle;
    // ACME's http-01 challenges are answered here, before any redirect or service sees the request.
    const answer = acme === null ? handle : withChallenges(acme, handle);
    const plain = createServer({ requestTimeout: 0 }, answer);
    if (!redirect) plain.on("upgrade", proxy.upgrade);
    listeners.push({ server: plain, address: settings.listen, field: "listen" });
  }
  for (const { server } of listeners) connections.track(server);
  const metricsServer = settings.metrics === null ? null : createMetricsServer(metrics);
  if (metricsServer !== null && settings.metrics !== null)
    listeners.push({ server: metricsServer, address: settings.metrics, field: "metrics" });
  const stopServices = () => Promise.all(services.map((service) => service.close()));
  try {
    // In order: the HTTPS port is bound before the plain listener that redirects to it.
    for (const { server, address, field } of listeners)
      bound.set(field, await listenEdge(server, address, field, settings.file));
  } catch (error) {
    await closeAtOnce(
      listeners.map(({ server }) => server),
      connections,
    );
    tls?.close();
    await stopServices();
    throw error;
  }
  tls?.watch();
  // Once the plain listener is up: the CA checks the challenges there.
  acme?.start();
  const running = {
    http: bound.get("listen") ?? null,
    https: bound.get("tls.listen") ?? null,
    metrics: bound.get("metrics") ?? null,
  };
  logger.info(
    {
      ...running,
      services: settings.services.map(({ name, upstream, hosts, pathPrefix }) => ({
        name,
        upstream,
        hosts,
        pathPrefix,
      })),
    },
    "edge started",
  );
  // Said once at start, where the operator looks: a service not up yet answers 503 until it is.
  for (const service of services) void warnIfDown(service, logger);
  return {
    ...running,
    async close() {
      proxy.closing();
      const traffic = listeners.filter(({ server }) => server !== metricsServer).map(({ server }) => server);
      const cancelled = await closeGracefully(traffic, connections, inFlight, settings.drainTimeoutMs);
      if (metricsServer !== null) await closeServer(metricsServer);
      acme?.close();
      tls?.close();
      await stopServices();
      logger.info({ cancelled }, "edge stopped");
    },
  };
}

function certificatesOf(settings: EdgeSettings, logger: Logger): TlsCertificates {
  try {
    return new TlsCertificates(settings.tls?.certificates ?? [], logger);
  } catch (error) {
    if (!(error instanceof CutoverError)) throw error;
    // Its messages name the router's field; here the same files are the edge's tls.certificates.
    throw new ConfigError(settings.file, [
      error.message.replace(/^router\.tls(\.certificates)?: /, "tls.certificates: "),
    ]);
  }
}

/** tls.acme's certificate, ordered into `tls`; its account and certificate kept in .cutover/edge/ beside the file. */
function acmeOf(settings: EdgeSettings, tls: TlsCertificates, logger: Logger): AcmeCertificates | null {
  const acme = settings.tls?.acme;
  if (!acme || settings.listen === null) return null; // the schema refuses acme without a plain listen:
  let directoryCa: string | null = null;
  try {
    directoryCa = acme.directoryCa ? readDirectoryCa(acme.directoryCa, "tls.acme.directoryCa") : null;
  } catch (error) {
    throw new ConfigError(settings.file, [(error as Error).message]);
  }
  return new AcmeCertificates({
    domains: acme.domains,
    email: acme.email ?? null,
    directory: acme.directory,
    directoryCa,
    renewBeforeMs: acme.renewBefore,
    stateDir: join(dirname(settings.file), ".cutover", "edge"),
    challengeListener: settings.listen,
    fields: { acme: "tls.acme", challengeListener: "listen" },
    tls,
    logger,
  });
}

function withChallenges(
  acme: AcmeCertificates,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!acme.challenges.answer(req, res)) handle(req, res);
  };
}

/** The plain listener with tls.redirectHttp: every request gets a 308 to the same URL over HTTPS. */
function redirectToHttps(bound: ReadonlyMap<string, Address>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const host = requestHost(req.headers);
    const port = bound.get("tls.listen")?.port ?? 443;
    if (host === "") {
      res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("no Host header\n");
      return;
    }
    const path = req.url?.startsWith("/") ? req.url : "/";
    const target = `https://${host}${port === 443 ? "" : `:${port}`}${path}`;
    res.writeHead(308, { location: target, "content-length": "0" }).end();
  };
}

/** Logs a warning when nothing listens where `service`'s router should. Never throws. */
async function warnIfDown(service: EdgeService, logger: Logger): Promise<void> {
  let socket: Socket | undefined;
  const refused = await new Promise<string | null>((resolve) => {
    socket = connect({ ...service.upstream, timeout: 2_000 });
    socket.once("connect", () => resolve(null));
    socket.once("timeout", () => resolve("no answer within 2s"));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  socket?.destroy();
  if (refused === null) return;
  logger.warn(
    { service: service.name, upstream: service.upstream, error: refused },
    `service ${service.name}: its router at ${hostPort(service.upstream.host, service.upstream.port)} does not answer (${refused}); its hosts get 503 until it does (\`cutover up\` in its folder starts it)`,
  );
}
