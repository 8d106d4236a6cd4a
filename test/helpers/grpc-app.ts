/**
 * The apps of the h2c tests as real processes: the gRPC app (grpc-app.mjs) and a plain HTTP/2 cleartext server
 * (h2c-app.mjs); and gRPC clients for the gRPC app's Colours service, over TLS (through the router) or h2c
 * (straight to a replica).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { Endpoint } from "../../src/engine/ports/platform.js";

export const GRPC_APP = join(import.meta.dirname, "grpc-app.mjs");
export const H2C_APP = join(import.meta.dirname, "h2c-app.mjs");
const definition = loadSync(join(import.meta.dirname, "grpc-app.proto"), { keepCase: false, defaults: true });
const Colours = (
  grpc.loadPackageDefinition(definition) as Record<string, Record<string, Record<string, unknown>>>
).cutover?.test?.Colours as typeof grpc.Client;

export interface WhoReply {
  readonly replica: string;
  readonly version: string;
  readonly echo: string;
  readonly n: number;
}

export interface GrpcApp {
  readonly endpoint: Endpoint;
  readonly pid: number;
  /** What it printed so far. */
  output(): string;
  /** Stops it with `signal` (SIGKILL: a replica that dies) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts grpc-app.mjs named `replica` on a free loopback port; resolves once it serves. */
export function startGrpcApp(replica: string, env: Record<string, string> = {}): Promise<GrpcApp> {
  return startApp(GRPC_APP, replica, env);
}

/** Starts h2c-app.mjs (plain node:http2, no gRPC) named `replica` on a free loopback port; resolves once it serves. */
export function startH2cApp(replica: string, env: Record<string, string> = {}): Promise<GrpcApp> {
  return startApp(H2C_APP, replica, env);
}

/** Starts `script`, which prints "... listening on <port>" once it serves. */
function startApp(script: string, replica: string, env: Record<string, string>): Promise<GrpcApp> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: "0", REPLICA: replica, APP_VERSION: `${replica}-1`, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    let serving = false;
    child.once("exit", (code) => reject(new Error(`${script} ${replica} exited (${code}) before serving`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening on (\d+)/.exec(out)?.[1];
      if (port === undefined || serving) return;
      serving = true;
      resolve({
        endpoint: { id: replica, host: "127.0.0.1", port: Number(port) },
        pid: child.pid as number,
        output: () => out,
        stop: (signal = "SIGTERM") => stopChild(child, exited, signal),
      });
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited;
}

/** A client of the Colours service at `address` ("host:port"), over TLS trusting `ca`, or h2c when ca is null. */
export function coloursClient(address: string, ca: string | null): grpc.Client {
  const credentials =
    ca === null ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(ca));
  // A channel of its own per test (no subchannel shared across clients); no retries by the client itself.
  return new Colours(address, credentials, { "grpc.use_local_subchannel_pool": 1, "grpc.enable_retries": 0 });
}

export interface UnaryAnswer {
  readonly reply: WhoReply;
  readonly trailers: Record<string, unknown>;
  readonly headers: Record<string, unknown>;
}

/** One Who call: the reply, its initial metadata (headers) and trailing metadata; rejects with the status. */
export function who(client: grpc.Client, name: string, deadlineMs = 10_000): Promise<UnaryAnswer> {
  return new Promise((resolve, reject) => {
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    let reply: WhoReply | undefined;
    const call = (client as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>).who?.(
      { name },
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, answer: WhoReply) => {
        if (error) reject(error);
        else reply = answer;
      },
    ) as grpc.ClientUnaryCall;
    call.on("metadata", (metadata: grpc.Metadata) => {
      headers = metadata.getMap();
    });
    call.on("status", (status: grpc.StatusObject) => {
      trailers = status.metadata.getMap();
      if (reply !== undefined) resolve({ reply, trailers, headers });
    });
  });
}

export interface StreamAnswer {
  readonly replies: WhoReply[];
  readonly status: grpc.StatusObject;
}

/**
 * One Count call, read to its end: every reply and the final status (whatever its code; a stream that ends
 * in error resolves too, with that status). `onReply` sees each reply as it arrives.
 */
export function count(
  client: grpc.Client,
  request: { count: number; intervalMs: number },
  onReply: (reply: WhoReply) => void = () => undefined,
  deadlineMs = 30_000,
): Promise<StreamAnswer> {
  return new Promise((resolve) => {
    const replies: WhoReply[] = [];
    const call = (
      client as unknown as Record<string, (...args: unknown[]) => grpc.ClientReadableStream<WhoReply>>
    ).count?.(request, { deadline: Date.now() + deadlineMs }) as grpc.ClientReadableStream<WhoReply>;
    call.on("data", (reply: WhoReply) => {
      replies.push(reply);
      onReply(reply);
    });
    // An error status arrives as 'error' and then 'status'; both end the call.
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => resolve({ replies, status }));
  });
}
