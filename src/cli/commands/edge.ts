import type { Command } from "commander";
import { hostPort } from "../../host-port.js";
import { createLogger } from "../../log.js";
import type { Output } from "../output.js";

export interface EdgeCommandContext {
  /** -c / --config: here it names the edge's file, not a service's cutover.yaml. */
  readonly configFlag: () => string | undefined;
  readonly output: () => Output;
}

/** `cutover edge`: several services on one machine behind one set of public listeners, until SIGTERM or SIGINT. */
export function registerEdgeCommand(program: Command, context: EdgeCommandContext): void {
  program
    .command("edge")
    .description(
      "run the edge in the foreground: one public listener (HTTP, and HTTPS with HTTP/2) for several cutover services on this machine, each request sent to the service its host name (and path prefix) names; -c names its file (default ./cutover-edge.yaml)",
    )
    .action(async () => {
      // Loaded here, not at the top: other commands do not pay for the proxy.
      const { findEdgeFile, loadEdgeConfig } = await import("../../edge/load-edge-config.js");
      const { startEdge } = await import("../../edge/start-edge.js");
      const settings = loadEdgeConfig(findEdgeFile(context.configFlag()));
      const logger = createLogger({ pretty: Boolean(process.stdout.isTTY) });
      // Listened for before the listeners open: a stop that comes while they do still stops gracefully.
      const stopped = signalled();
      const edge = await startEdge(settings, logger);
      const at = (scheme: string, address: { host: string; port: number } | null) =>
        address === null ? null : `${scheme}://${hostPort(address.host, address.port)}`;
      const listening = [at("http", edge.http), at("https", edge.https)].filter((url) => url !== null);
      const services = settings.services.map((service) => ({
        name: service.name,
        hosts: service.hosts,
        pathPrefix: service.pathPrefix,
        upstream: `http://${hostPort(service.upstream.host, service.upstream.port)}`,
      }));
      context
        .output()
        .result({ listen: listening, metrics: at("http", edge.metrics), services }, () =>
          [
            `Edge listening on ${listening.join(" and ")}${edge.metrics === null ? "" : `, metrics at ${at("http", edge.metrics)}/metrics`}`,
            ...services.map(
              (s) =>
                `  ${s.hosts.join(", ")}${s.pathPrefix === "/" ? "" : ` ${s.pathPrefix}`} -> ${s.name} (${s.upstream})`,
            ),
            "Ctrl-C stops it, letting requests in flight finish.",
          ].join("\n"),
        );
      await stopped;
      logger.info("stopping the edge: letting requests in flight finish");
      await edge.close();
      // Everything is closed; should a socket linger, do not wait for it.
      setTimeout(() => process.exit(), 1_000).unref();
    });
}

function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
