/**
 * The edge's WebSocket tunnel when the service closes first: the client still gets every byte the service
 * sent. Over loopback the kernel takes the edge's last bytes at once, so nothing would show a tunnel that
 * dropped them; here the client's connection is a stream that takes bytes only when the test lets it, as a
 * slow network would, and the service is a real one over TCP.
 */
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { EdgeMetrics } from "../../src/edge/edge-metrics.js";
import { EdgeService } from "../../src/edge/edge-service.js";
import { EdgeTunnel } from "../../src/edge/edge-tunnel.js";
import { InFlightSet } from "../../src/router/in-flight-set.js";
import { type ClosingWebSocket, startClosingWebSocket } from "./closing-websocket.js";

/**
 * The client's side of the tunnel over a slow network: the first `open` bytes written to it arrive at once,
 * the rest wait for deliver(). Bytes still waiting when it is destroyed never arrive, as with a socket.
 */
class SlowClient extends Duplex {
  readonly received: Buffer[] = [];
  #open: number;
  #waiting: Array<() => void> = [];

  constructor(open: number) {
    // A buffer larger than what waits (one read of the service's, 64 KiB at most): the tunnel never waits
    // for it, so the service's end reaches the tunnel with those bytes still waiting, however they are split.
    super({ writableHighWaterMark: 1024 * 1024 });
    this.#open = open;
  }

  get receivedBytes(): number {
    return this.received.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const arrive = (): void => {
      this.received.push(chunk);
      done();
    };
    if (this.receivedBytes + chunk.length <= this.#open) arrive();
    else this.#waiting.push(arrive);
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.#waiting = [];
    done(error);
  }

  /** The network catches up: everything written so far arrives. */
  deliver(): void {
    this.#open = Number.POSITIVE_INFINITY;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const arrive of waiting) arrive();
  }
}

/** An upgrade request for /ws, as the edge's listener would have read it. */
function upgradeRequest(): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = "GET";
  req.url = "/ws";
  req.rawHeaders = [
    "host",
    "alpha.test",
    "connection",
    "Upgrade",
    "upgrade",
    "websocket",
    "sec-websocket-version",
    "13",
    "sec-websocket-key",
    "dGhlIHNhbXBsZSBub25jZQ==",
  ];
  return req;
}

let service: ClosingWebSocket | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe("the edge's WebSocket tunnel", () => {
  it("sends a slow client the service's last bytes after the service has closed, then closes", async () => {
    service = await startClosingWebSocket(256 * 1024);
    const edgeService = new EdgeService({
      name: "alpha",
      upstream: { host: "127.0.0.1", port: service.port },
      hosts: ["alpha.test"],
      pathPrefix: "/",
      stripPrefix: false,
    });
    const inFlight = new InFlightSet();
    // The network takes all but the last 1000 bytes (at least: a chunk that does not fit waits whole).
    const client = new SlowClient(service.bytes - 1000);
    const closed = new Promise<void>((resolve) => client.once("close", resolve));
    new EdgeTunnel(upgradeRequest(), client, Buffer.alloc(0), edgeService, {
      inFlight,
      metrics: new EdgeMetrics(() => inFlight.size),
    }).start();
    // The tunnel is over once the service's connection has closed.
    expect(await inFlight.whenEmpty(30_000)).toBe(true);
    expect(client.receivedBytes).toBeLessThanOrEqual(service.bytes - 1000);
    client.deliver();
    await closed;
    const received = Buffer.concat(client.received);
    expect(received.length).toBe(service.bytes);
    expect([...received.subarray(received.length - 4)]).toEqual([0x88, 2, 0x03, 0xe8]);
    await edgeService.close();
  });
});
