import type { Command } from "commander";
import type { BuiltinFrontConfig } from "../../config/fleet-schema.js";
import type { LoadedConfig } from "../../config/load.js";
import { CutoverError } from "../../errors.js";
import { httpUrl } from "../../host-port.js";
import { createLogger } from "../../log.js";
import type { Output } from "../output.js";

export interface GlobalCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

/** `cutover global`: runs the built-in global front in the foreground until SIGTERM or SIGINT. */
export function registerGlobalCommand(program: Command, context: GlobalCommandContext): void {
  program
    .command("global")
    .description(
      "run the global front (globalFront: { type: builtin }) in the foreground: one address for users, sent to the regions by priority or weight, with health probes and drain / restore",
    )
    .action(async () => {
      const loaded = context.config();
      const config = builtinFrontOf(loaded);
      // Loaded here, not at the top: other commands do not pay for the proxy.
      const { startGlobalFront } = await import("../../front/start-global-front.js");
      const { frontStateDir } = await import("../../front/front-files.js");
      const logger = createLogger({ pretty: Boolean(process.stdout.isTTY) });
      const stateDir = frontStateDir(loaded.stateDir);
      const front = await startGlobalFront({
        config,
        regions: loaded.config.regions ?? [],
        healthPath: loaded.config.health.path,
        stateDir,
        logger,
      });
      const users = httpUrl(front.listen);
      const admin = httpUrl(front.admin);
      context
        .output()
        .result({ listen: users, admin, routing: config.routing, regions: front.states() }, () =>
          [
            `Global front of ${loaded.config.service}: users at ${users}, admin API at ${admin} (token in ${stateDir}/token unless globalFront.token is set)`,
            `Routing: ${config.routing}; regions: ${front
              .states()
              .map((s) => `${s.region}${s.enabled ? "" : " (drained)"}`)
              .join(", ")}. Ctrl-C stops it.`,
          ].join("\n"),
        );
      await signalled();
      logger.info("stopping the global front: letting requests in flight finish");
      await front.close();
      // Everything is closed; should a socket linger, do not wait for it.
      setTimeout(() => process.exit(), 1_000).unref();
    });
}

/** The config's global front, which `cutover global` runs only when it is cutover's own (type: builtin). */
function builtinFrontOf(loaded: LoadedConfig): BuiltinFrontConfig {
  const front = loaded.config.globalFront;
  if (front === undefined)
    throw new CutoverError(
      "NO_GLOBAL_FRONT",
      `${loaded.file} has no globalFront: section; add globalFront: { type: builtin, listen: 127.0.0.1:8000 } (and regions: with an endpoint each) to run one`,
    );
  if (front.type !== "builtin")
    throw new CutoverError(
      "NO_GLOBAL_FRONT",
      `${loaded.file} has globalFront.type: ${front.type}, which runs outside cutover (the fleet runner drives it over its API); \`cutover global\` runs only type: builtin`,
    );
  return front;
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
