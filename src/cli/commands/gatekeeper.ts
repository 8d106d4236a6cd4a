import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Command } from "commander";
import type { Logger } from "pino";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { LoadedConfig } from "../../config/load.js";
import { parseDuration } from "../../duration.js";
import { CutoverError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { KubernetesConfigMissingError } from "../../platforms/kubernetes/errors.js";
import type { Gatekeeper, GatekeeperOptions } from "../../platforms/kubernetes/gatekeeper.js";
import type { LeaseTimings } from "../../platforms/kubernetes/gatekeeper-lease.js";

export interface GatekeeperCommandContext {
  readonly config: () => LoadedConfig;
}

/** The command's flags, as commander hands them over. */
export interface GatekeeperFlags {
  readonly leaseDuration?: string;
  readonly renewDeadline?: string;
  readonly retryPeriod?: string;
  readonly identity?: string;
}

/** `cutover gatekeeper`: the in-cluster controller that opens the live colour's readiness gates. */
export function registerGatekeeperCommand(program: Command, context: GatekeeperCommandContext): void {
  program
    .command("gatekeeper")
    .description(
      "run in the cluster: open the readiness gate of the live colour's new pods (HPA scale-ups, rescheduled pods) without a cutover command; replicas elect a leader through a Lease",
    )
    .option(
      "--lease-duration <duration>",
      "a standby takes over this long after the leader stopped renewing",
      "15s",
    )
    .option(
      "--renew-deadline <duration>",
      "the leader steps down when it could not renew for this long",
      "10s",
    )
    .option("--retry-period <duration>", "between two tries to take or renew the lease", "2s")
    .option(
      "--identity <name>",
      "this replica's name in the lease (default: $POD_NAME or the host name, and a random suffix)",
    )
    .action(async (flags: GatekeeperFlags) => {
      const logger = createLogger({ pretty: Boolean(process.stdout.isTTY) });
      const gatekeeper = await createGatekeeper(context.config(), flags, logger);
      await runUntilSignalled(gatekeeper, logger);
    });
}

/**
 * A Gatekeeper for cutover.yaml, as the command builds it: refuses (exit 2) a config that is not
 * `platform: kubernetes` with `readinessGate: true`, or lease timings client-go would refuse.
 */
export async function createGatekeeper(
  loaded: LoadedConfig,
  flags: GatekeeperFlags,
  logger: Logger,
  tuning: Pick<GatekeeperOptions, "resyncMs" | "watchTimeoutSeconds"> = {},
): Promise<Gatekeeper> {
  const kube = gatedKubernetes(loaded);
  // Loaded here, not at the top: other commands do not pay for the Kubernetes client.
  const { Gatekeeper } = await import("../../platforms/kubernetes/gatekeeper.js");
  const { checkTimings } = await import("../../platforms/kubernetes/gatekeeper-lease.js");
  const { createKubeClients, loadKubeConfig } = await import("../../platforms/kubernetes/kube-clients.js");
  const timings = timingsOf(flags);
  checkTimings(timings);
  const clients = createKubeClients(loadKubeConfig(kube, loaded.dir), kube.namespace);
  return new Gatekeeper({
    clients,
    service: loaded.config.service,
    identity: flags.identity ?? `${process.env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`,
    timings,
    logger,
    ...tuning,
  });
}

/** Runs until SIGTERM or SIGINT, then stops watching and releases the lease. */
async function runUntilSignalled(gatekeeper: Gatekeeper, logger: Logger): Promise<void> {
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "stopping the gatekeeper");
    void gatekeeper.stop();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  logger.info({ identity: gatekeeper.identity }, "gatekeeper started");
  try {
    await gatekeeper.run();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
  logger.info("gatekeeper stopped");
  // All is closed and the lease released; should a socket linger (a watch whose response never started), do not wait for it.
  setTimeout(() => process.exit(), 1_000).unref();
}

function gatedKubernetes(loaded: LoadedConfig): KubernetesConfig {
  const { config, file } = loaded;
  if (config.platform !== "kubernetes")
    throw new CutoverError(
      "GATEKEEPER_NEEDS_KUBERNETES",
      `${file} has platform: ${config.platform}; the gatekeeper opens Kubernetes readiness gates and runs only with platform: kubernetes`,
    );
  const kube = config.kubernetes;
  if (!kube) throw new KubernetesConfigMissingError(file);
  if (!kube.readinessGate)
    throw new CutoverError(
      "GATEKEEPER_WITHOUT_GATE",
      `${file} has kubernetes.readinessGate: false, so pods carry no gate and the gatekeeper has nothing to open; set readinessGate: true (and apply the rendered manifests again), or do not run the gatekeeper`,
    );
  return kube;
}

function timingsOf(flags: GatekeeperFlags): LeaseTimings {
  return {
    leaseDurationMs: durationFlag("--lease-duration", flags.leaseDuration ?? "15s"),
    renewDeadlineMs: durationFlag("--renew-deadline", flags.renewDeadline ?? "10s"),
    retryPeriodMs: durationFlag("--retry-period", flags.retryPeriod ?? "2s"),
  };
}

function durationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `${flag} expects a duration such as "500ms", "2s" or "1m", got "${value}"`,
    );
  return ms;
}
