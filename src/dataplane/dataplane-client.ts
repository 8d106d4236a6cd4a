import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import {
  createMessageConnection,
  type MessageConnection,
  ResponseError,
  SocketMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node.js";
import { CutoverError, ERRORS, type ErrorCode } from "../errors.js";
import { M } from "./protocol.js";

/** How long connecting to the data plane process may take. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The daemon's end of the control socket: requests and notifications to the data plane process, its errors
 * as CutoverErrors again, its notifications to listeners.
 */
export class DataPlaneClient {
  readonly #c: MessageConnection;
  readonly #socket: Socket;
  #closed = false;
  /** Requests sent and not yet answered: a closed connection fails them (vscode-jsonrpc leaves them waiting). */
  readonly #pending = new Set<(error: Error) => void>();

  private constructor(connection: MessageConnection, socket: Socket) {
    this.#c = connection;
    this.#socket = socket;
  }

  static async connect(socketPath: string): Promise<DataPlaneClient> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer on ${socketPath} within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    socket.on("error", () => {});
    const connection = createMessageConnection(
      new SocketMessageReader(socket),
      new StreamMessageWriter(writesThatNeverFail(socket)),
    );
    const client = new DataPlaneClient(connection, socket);
    connection.onClose(() => client.#lost());
    connection.listen();
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request; with `timeoutMs`, a process that does not answer within it fails the request. */
  async request<R>(method: string, params: unknown = null, timeoutMs?: number): Promise<R> {
    if (this.#closed) throw lostError();
    let fail!: (error: Error) => void;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.#pending.add(fail);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => fail(new Error(`no answer to ${method} within ${timeoutMs} ms`)), timeoutMs);
    try {
      return (await Promise.race([this.#c.sendRequest(method, params), failed])) as R;
    } catch (error) {
      throw asCutoverError(error);
    } finally {
      clearTimeout(timer);
      this.#pending.delete(fail);
    }
  }

  #lost(): void {
    this.#closed = true;
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const fail of pending) fail(lostError());
  }

  notify(method: string, params: unknown): void {
    if (this.#closed) return;
    void this.#c.sendNotification(method, params).catch(() => {});
  }

  on<P>(method: string, handler: (params: P) => void): void {
    this.#c.onNotification(method, handler);
  }

  onClose(handler: () => void): void {
    this.#c.onClose(handler);
  }

  /** Closes this end; the data plane process serves on. */
  close(): void {
    this.#lost();
    this.#c.dispose();
    this.#socket.destroy();
  }

  /** Asks the data plane process to stop its replicas and itself. */
  async shutdown(): Promise<void> {
    await this.request(M.shutdown);
    this.close();
  }
}

/**
 * The control socket as the message writer sees it: a write the data plane process can no longer read (it
 * closed its end, or died) does not fail. vscode-jsonrpc's sendRequest rethrows a failed write inside a
 * promise nothing holds, and that unhandled rejection ended the daemon when its data plane was killed with -9,
 * before the daemon could say so. The connection's close, seen by the reading side, is what tells of the
 * loss: the requests still waiting fail then (#lost).
 */
function writesThatNeverFail(socket: Socket): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      if (socket.writable) socket.write(chunk, () => callback());
      else callback();
    },
  });
}

function lostError(): CutoverError {
  return new CutoverError(
    "DATAPLANE_FAILED",
    "the connection to the data plane process is closed (it stopped, or this daemon left)",
  );
}

function asCutoverError(error: unknown): Error {
  if (error instanceof CutoverError) return error;
  if (error instanceof ResponseError) {
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code && code in ERRORS) return new CutoverError(code as ErrorCode, error.message);
    return new CutoverError("DATAPLANE_FAILED", `the data plane process: ${error.message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CutoverError("DATAPLANE_FAILED", `the data plane process does not answer: ${message}`);
}
