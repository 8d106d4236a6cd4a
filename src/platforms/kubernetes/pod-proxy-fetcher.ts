import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { Endpoint } from "../../engine/ports/platform.js";
import type { KubeClients } from "./kube-clients.js";

/** What a pod answered through the proxy. */
export interface ProxiedPage {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

const MAX_BODY = 4 * 1024 * 1024;

/**
 * Reads a path of a pod through the API server's pod proxy,
 * `GET /api/v1/namespaces/{ns}/pods/{name}:{port}/proxy/{path}`, with the kubeconfig's credentials: the
 * runner needs no network path to the pods, only to the API server (and the `pods/proxy` get right).
 * An endpoint here is a pod: its id is the pod's name and its port the container port.
 */
export class PodProxyFetcher {
  readonly #clients: KubeClients;

  constructor(clients: KubeClients) {
    this.#clients = clients;
  }

  where(endpoint: Endpoint, path: string): string {
    return `${this.#base()}${this.#path(endpoint, path)}`;
  }

  async get(endpoint: Endpoint, path: string, signal: AbortSignal): Promise<ProxiedPage> {
    const url = new URL(this.where(endpoint, path));
    const options: RequestOptions = {
      method: "GET",
      headers: { accept: "text/plain, application/json;q=0.5" },
    };
    await this.#clients.config.applyToHTTPSOptions(options);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...options, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error(`the answer is larger than ${MAX_BODY} bytes`));
          else chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }

  #base(): string {
    const server = this.#clients.config.getCurrentCluster()?.server ?? "";
    return server.replace(/\/+$/, "");
  }

  #path(endpoint: Endpoint, path: string): string {
    const ns = encodeURIComponent(this.#clients.namespace);
    const pod = `${encodeURIComponent(endpoint.id)}:${endpoint.port}`;
    return `/api/v1/namespaces/${ns}/pods/${pod}/proxy${path.startsWith("/") ? path : `/${path}`}`;
  }
}
