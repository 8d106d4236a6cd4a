/** A WebSocket service for the edge's tunnel tests that closes its connection first, right after its last message. */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

export interface ClosingWebSocket {
  readonly port: number;
  /** Every byte it sends on a connection: the 101 answer's head, the message's frame, the close frame. */
  readonly bytes: number;
  close(): Promise<void>;
}

/**
 * A WebSocket service that, on each connection, sends one binary message of `size` bytes and a close frame
 * (1000) and then ends its TCP connection at once, as a server may (RFC 6455 7.1.1), without waiting for the
 * client's close frame: written by hand, as ws waits for it.
 */
export async function startClosingWebSocket(size: number): Promise<ClosingWebSocket> {
  const server = createServer();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    const accept = createHash("sha1")
      .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.on("error", () => undefined);
    socket.write(switching(accept));
    // A final binary frame with a 64-bit length, unmasked (server to client).
    const head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(size), 2);
    socket.write(head);
    socket.write(Buffer.alloc(size, 0x61));
    // Close frame: code 1000, no reason.
    socket.end(Buffer.from([0x88, 2, 0x03, 0xe8]));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bytes: Buffer.byteLength(switching("x".repeat(28))) + 10 + size + 4,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const switching = (accept: string): string =>
  `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`;
