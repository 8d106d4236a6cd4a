import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type Logger, pino } from "pino";
import { type Colour, otherColour } from "../colour.js";
import type { Address } from "../config/schema.js";
import type { Endpoint } from "../engine/ports/platform.js";
import type { DrainResult, SwitchResult, TrafficRouter } from "../engine/ports/traffic-router.js";
import { CutoverError } from "../errors.js";
import type { AcmeCertificates } from "./acme-certificates.js";
import { registerCertificateExpiry } from "./certificate-expiry-metric.js";
import { ColourLane } from "./colour-lane.js";
import { HeldHttpRequest, HeldUpgrade } from "./held-request.js";
import { closeServer, listen, trackConnections } from "./listen.js";
import { Mirror, MirrorMetrics, type MirrorOptions, MirrorThread } from "./mirror.js";
import { PREVIEW_PATH, type PreviewAccess } from "./preview-access.js";
import { proxyRequest } from "./proxy-request.js";
import { DEFAULT_HOLD_LIMIT, RouterHold } from "./request-hold.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.js";
import { DURATION_BUCKETS, RouterMetrics } from "./router-metrics.js";
import { SharedActiveColour } from "./shared-active-colour.js";
import type { TlsCertificates } from "./tls-certificates.js";
import { createTlsServer } from "./tls-server.js";
import { TunnelExchange } from "./tunnel-exchange.js";
import type { UpstreamProtocol } from "./upstream.js";

/** address() was called before start() resolved, or after close(). */
export class RouterNotListeningError extends CutoverError {
  constructor() {
    super("ROUTER_NOT_LISTENING", "the router is not listening; call start() first");
    this.name = "RouterNotListeningError";
  }
}

export interface RouterOptions {
  /** Serves the active colour. */
  readonly listen: Address;
  /** Serves the idle colour; null for no preview listener. */
  readonly preview: Address | null;
  /** Send each client address to the same replica of a colour (while its set of replicas does not change). */
  readonly sticky: boolean;
  readonly initialActive: Colour;
  readonly logger?: Logger;
  /** Time a replica has to send its response head before the client gets 504. Default 60 s. */
  readonly headersTimeoutMs?: number;
  /** Time a connection to a replica has to open. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Longest silence between two chunks of a response body; 0 waits forever. Default 300 s. */
  readonly bodyTimeoutMs?: number;
  /**
   * The active-colour pointer, when another thread (an admin worker) must be able to switch it while this
   * thread's event loop is saturated; its current colour wins over `initialActive`. Default: a pointer of the
   * router's own at `initialActive`.
   */
  readonly activeColour?: SharedActiveColour;
  /** Requests held at most at once while new requests are held (requestHold); the next get 503. Default 10,000. */
  readonly holdLimit?: number;
  /** Which requests are sent again to another replica when their connection broke. Default DEFAULT_RETRY. */
  readonly retry?: RetryPolicy;
  /** HTTPS on the main listener with these certificates (the preview listener stays plain HTTP). */
  readonly tls?: TlsCertificates | null;
  /** A plain HTTP listener that redirects every request to https:// on the main listener (with tls). */
  readonly redirectHttp?: Address | null;
  /** Certificates ordered from an ACME CA into `tls`; its http-01 challenges are answered on redirectHttp. */
  readonly acme?: AcmeCertificates | null;
  /** Requests on the main listener that carry this secret (header or cookie) go to the idle colour. */
  readonly previewAccess?: PreviewAccess | null;
  /** How the replicas are spoken to: HTTP/1.1 (default), or HTTP/2 cleartext (gRPC passes through). */
  readonly upstreamProtocol?: UpstreamProtocol;
  /**
   * Idle connections kept open to each replica of both colours, so the first requests after a switch (or to a
   * new replica) skip connection set-up (router.warmConnections). Default 0: none.
   */
  readonly warmConnections?: number;
}

/**
 * The built-in data plane: an HTTP/1.1 and WebSocket reverse proxy with one listener for the active
 * colour and one for the idle colour. Switching is one atomic store (SharedActiveColour); each request reads
 * the active colour once, when it arrives, and stays on that colour until it ends. While new requests are
 * held (requestHold), a request on the main listener reads it at the release instead.
 */
export class Router implements TrafficRouter {
  readonly #options: RouterOptions;
  readonly #log: Logger;
  readonly #lanes: Readonly<Record<Colour, ColourLane>>;
  readonly #metrics: RouterMetrics;
  readonly #main: Server;
  readonly #preview: Server | null;
  readonly #redirect: Server | null;
  readonly #active: SharedActiveColour;
  readonly #hold: RouterHold;
  #mirror: Mirror | null = null;
  #mirrorThread: MirrorThread | null = null;
  #mainAddress: Address | null = null;
  #previewAddress: Address | null = null;
  #redirectAddress: Address | null = null;

  constructor(options: RouterOptions) {
    this.#options = options;
    this.#active = options.activeColour ?? new SharedActiveColour(options.initialActive);
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "router" });
    this.#hold = new RouterHold({
      activeLane: () => this.#lanes[this.#active.colour],
      lane: (colour) => this.#lanes[colour],
      limit: options.holdLimit ?? DEFAULT_HOLD_LIMIT,
      logger: this.#log,
    });
    this.#metrics = new RouterMetrics(this, this.#hold);
    if (options.tls) registerCertificateExpiry(this.#metrics.registry, options.tls);
    const replicas = {
      sticky: options.sticky,
      protocol: options.upstreamProtocol ?? "http1",
      warmConnections: options.warmConnections ?? 0,
      timeouts: {
        connectMs: options.connectTimeoutMs ?? 5_000,
        headersMs: options.headersTimeoutMs ?? 60_000,
        bodyMs: options.bodyTimeoutMs ?? 300_000,
      },
    };
    this.#lanes = {
      blue: new ColourLane("blue", replicas, this.#metrics, options.retry ?? DEFAULT_RETRY),
      green: new ColourLane("green", replicas, this.#metrics, options.retry ?? DEFAULT_RETRY),
    };
    this.#main = this.#createServer(() => this.#lanes[this.#active.colour], true, options.tls ?? null);
    this.#redirect = options.tls && options.redirectHttp ? this.#createRedirect() : null;
    this.#preview =
      options.preview === null
        ? null
        : this.#createServer(() => this.#lanes[otherColour(this.#active.colour)], false);
  }

  get active(): Colour {
    return this.#active.colour;
  }

  /** Holds new requests on the main listener (the preview listener is never held). */
  get requestHold(): RouterHold {
    return this.#hold;
  }

  /** Times the active colour changed, by this router or by another thread holding its pointer. */
  get switches(): number {
    return this.#active.switches;
  }

  get metricsContentType(): string {
    return this.#metrics.contentType;
  }

  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): void {
    this.#lanes[colour].replicas.replace(endpoints);
    this.#log.info(
      { event: "endpoints", colour, endpoints: endpoints.map((e) => e.id) },
      "replicas in rotation",
    );
  }

  inRotation(colour: Colour): readonly string[] {
    return this.#lanes[colour].replicas.endpoints.map((endpoint) => endpoint.id);
  }

  switchTo(colour: Colour): SwitchResult {
    const from = this.#active.switchTo(colour);
    const at = Date.now();
    if (from !== colour) {
      this.#log.info({ event: "switch", from, to: colour }, `switched ${from} -> ${colour}`);
    }
    return { from, to: colour, at };
  }

  async drain(colour: Colour, timeoutMs: number): Promise<DrainResult> {
    const result = await this.#lanes[colour].inFlight.drain(timeoutMs);
    this.#log.info({ event: "drain", colour, timeoutMs, ...result }, `drained ${colour}`);
    return result;
  }

  inFlight(colour: Colour): number {
    return this.#lanes[colour].inFlight.size;
  }
  /** Mirrored copies sent and not yet answered (the worker thread's queue). */
  mirrorInFlight(): number {
    return this.#mirrorThread?.inFlight ?? 0;
  }

  metrics(): Promise<string> {
    return this.#metrics.metrics();
  }

  /** The same metrics as prom-client's JSON, for adding up several routers' (router workers'). */
  metricsJson(): Promise<object[]> {
    return this.#metrics.registry.getMetricsAsJSON();
  }

  /**
   * Starts copying a share of the main listener's idempotent requests to the idle colour (answers discarded),
   * or stops it with null. The copies follow the switch: they always go to the colour that is not serving.
   */
  setMirror(options: MirrorOptions | null): void {
    this.#mirror?.stop();
    this.#mirror = null;
    if (options === null || options.share <= 0) return;
    this.#mirrorThread ??= new MirrorThread(new MirrorMetrics(this.#metrics.registry, DURATION_BUCKETS));
    this.#mirror = new Mirror(options, (colour) => this.#lanes[colour].replicas, this.#mirrorThread);
    this.#log.info(
      { event: "mirror", share: options.share, maxPerSecond: options.maxPerSecond, methods: options.methods },
      "mirroring to the idle colour",
    );
  }

  async start(): Promise<void> {
    this.#options.tls?.watch();
    this.#mainAddress = await listen(this.#main, this.#options.listen, "listen");
    if (this.#redirect !== null && this.#options.redirectHttp) {
      try {
        this.#redirectAddress = await listen(this.#redirect, this.#options.redirectHttp, "tls.redirectHttp");
      } catch (error) {
        await closeServer(this.#main);
        this.#mainAddress = null;
        throw error;
      }
    }
    if (this.#preview !== null && this.#options.preview !== null) {
      try {
        this.#previewAddress = await listen(this.#preview, this.#options.preview, "preview");
      } catch (error) {
        await closeServer(this.#main);
        if (this.#redirect !== null) await closeServer(this.#redirect);
        this.#mainAddress = null;
        throw error;
      }
    }
    this.#log.info(
      { event: "listening", listen: this.#mainAddress, preview: this.#previewAddress, active: this.active },
      "router listening",
    );
    // Once the port-80 listener is up: the CA checks the challenges there.
    this.#options.acme?.start();
  }

  /** Closes the listeners, every open connection and WebSocket, and the pools to the replicas. */
  async close(): Promise<void> {
    this.#hold.close();
    this.setMirror(null);
    await this.#mirrorThread?.close();
    this.#options.tls?.close();
    this.#options.acme?.close();
    const servers = [closeServer(this.#main)];
    if (this.#preview !== null) servers.push(closeServer(this.#preview));
    if (this.#redirect !== null) servers.push(closeServer(this.#redirect));
    for (const lane of Object.values(this.#lanes)) lane.inFlight.cancelAll();
    await Promise.all([...servers, ...Object.values(this.#lanes).map((lane) => lane.replicas.destroy())]);
    this.#mainAddress = null;
    this.#previewAddress = null;
  }

  /** Where the main listener is bound. */
  address(): Address {
    if (this.#mainAddress === null) throw new RouterNotListeningError();
    return this.#mainAddress;
  }

  /** Where the plain HTTP listener that redirects to HTTPS is bound; null when there is none. */
  redirectAddress(): Address | null {
    return this.#redirectAddress;
  }

  /** Where the preview listener is bound; null when there is none. */
  previewAddress(): Address | null {
    if (this.#mainAddress === null) throw new RouterNotListeningError();
    return this.#previewAddress;
  }

  /**
   * `main`: the main listener, which mirrors and may hold (over TLS with `tls`); otherwise the preview
   * listener.
   */
  #createServer(lane: () => ColourLane, main: boolean, tls: TlsCertificates | null = null): Server {
    const hold = main ? this.#hold : null;
    const mirror = () => (main ? this.#mirror : null);
    const access = main ? (this.#options.previewAccess ?? null) : null;
    const idle = () => this.#lanes[otherColour(this.#active.colour)];
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      if (access !== null) {
        if (req.url?.startsWith(PREVIEW_PATH) && access.answer(req, res, tls !== null)) return;
        // A preview request goes to the idle colour: never held, never mirrored.
        if (access.admits(req)) return proxyRequest(req, res, idle(), null);
      }
      if (hold?.on && hold.admit(new HeldHttpRequest(req, res, mirror))) return;
      proxyRequest(req, res, lane(), mirror());
    };
    const server: Server =
      tls === null ? createServer({ requestTimeout: 0 }, handle) : this.#tlsServer(tls, handle);
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (access?.admits(req)) return new TunnelExchange(req, socket, head, idle()).start();
      if (hold?.on && hold.admit(new HeldUpgrade(req, socket, head))) return;
      new TunnelExchange(req, socket, head, lane()).start();
    });
    return server;
  }

  /** HTTPS with HTTP/2 (tls-server.ts); an HTTP/2 server cannot close its own connections: they are tracked. */
  #tlsServer(tls: TlsCertificates, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
    const server = createTlsServer(tls, handle, this.#log) as unknown as Server;
    trackConnections(server);
    return server;
  }

  /**
   * Answers every plain HTTP request with a 308 to the same path over HTTPS on the main listener, but for
   * ACME's http-01 challenges, answered here.
   */
  #createRedirect(): Server {
    return createServer({ requestTimeout: 10_000 }, (req, res) => {
      if (this.#options.acme?.challenges.answer(req, res)) return;
      const port = this.#mainAddress?.port ?? this.#options.listen.port;
      const host = (req.headers.host ?? this.#options.listen.host).replace(/:\d+$/, "");
      const target = `https://${host}${port === 443 ? "" : `:${port}`}${req.url?.startsWith("/") ? req.url : "/"}`;
      res.writeHead(308, { location: target, "content-length": "0", connection: "close" });
      res.end();
    });
  }
}
