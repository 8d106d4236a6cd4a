import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import { AdminClient } from "../../control/admin-client.js";
import { parseDuration } from "../../duration.js";
import { CutoverError } from "../../errors.js";
import { AdminApiDriver } from "../../verify/admin-api-driver.js";
import { CommandDriver } from "../../verify/command-driver.js";
import { type DrillStep, parseSequence, SEQUENCE_HELP } from "../../verify/drill-sequence.js";
import { EngineDriver } from "../../verify/engine-driver.js";
import { FAULT_NAMES, type FaultSettings } from "../../verify/faults/fault.js";
import { toJUnitXml } from "../../verify/junit-xml.js";
import { CONNECTION_MODES, type ConnectionMode } from "../../verify/load-generator.js";
import { addressUrl, localCutover } from "../../verify/local-cutover.js";
import { DEFAULT_CRITERIA, type PassCriteria } from "../../verify/pass-criteria.js";
import { renderVerifyReport } from "../../verify/render-verify-report.js";
import type { SwitchDriver } from "../../verify/switch-driver.js";
import { checkLoadTarget } from "../../verify/target-guard.js";
import type { LoadSettings } from "../../verify/verify-report.js";
import type { Output } from "../output.js";
import { startDaemonInBackground } from "./daemon-process.js";

export interface VerifyCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

interface VerifyFlags {
  url?: string;
  switchCommand?: string;
  rollbackCommand?: string;
  deployCommand?: string;
  sequence?: string;
  switches?: string;
  faults?: string;
  unhealthyVersion?: string;
  slowVersion?: string;
  erroringVersion?: string;
  longRequest: string;
  longRequestPath: string;
  websocketPath: string;
  connections: string;
  rate?: string;
  connectionMode: ConnectionMode;
  path: string;
  duration: string;
  maxRequests: string;
  timeout: string;
  warmup: string;
  maxFailed: string;
  maxLatency: string;
  maxMeanLatency: string;
  minExpectedColour: string;
  junit?: string;
  record?: string;
}

/** `cutover verify`: load through a switch drill and faults, every request accounted for. Exit 0 pass, 1 fail, 2 bad input. */
export function registerVerifyCommand(program: Command, context: VerifyCommandContext): void {
  program
    .command("verify")
    .description(
      "prove zero downtime: send load while cutover switches, rolls back, deploys and survives faults; account for every request",
    )
    .option("--sequence <steps>", `what cutover does under load: ${SEQUENCE_HELP} (default: switch,rollback)`)
    .option("--switches <n>", "adds switches:<n> to the sequence (each a rollback to the warm other colour)")
    .option("--faults <list>", `"all" or some of ${FAULT_NAMES.join(", ")}`)
    .option("--unhealthy-version <v>", "for unhealthy-new: a version whose health check fails")
    .option(
      "--slow-version <v>",
      "for slow-start (and daemon-restart): a version that takes seconds to become healthy",
    )
    .option("--erroring-version <v>", "for errors-after-switch: a version that answers 5xx")
    .option("--long-request <duration>", "for long-request: how long the request in flight takes", "3s")
    .option(
      "--long-request-path <path>",
      "for long-request: a path that answers after {ms} ms",
      "/slow?ms={ms}",
    )
    .option("--websocket-path <path>", "for websocket: an echo WebSocket endpoint", "/ws")
    .option("--url <url>", "load this URL instead of the configured cutover (needs --switch-command)")
    .option("--switch-command <cmd>", "with --url: the shell command that moves traffic to the other side")
    .option("--rollback-command <cmd>", "with --url: for rollback steps (default: the switch command)")
    .option(
      "--deploy-command <cmd>",
      "with --url: for deploy:<v> steps; {version} is replaced (default: the switch command)",
    )
    .option("--connections <n>", "concurrent requests (closed loop), or the cap in flight with --rate", "8")
    .option("--rate <n>", "fixed rate: requests a second, whatever the answers do (open loop)")
    .addOption(
      new Option("--connection-mode <mode>", "kept-alive connections, a fresh one per request, or half each")
        .choices(CONNECTION_MODES)
        .default("both"),
    )
    .option("--path <path>", "the path requested", "/")
    .option("--duration <duration>", "stop everything after this long at most", "10m")
    .option("--max-requests <n>", "stop the load after this many requests at most", "5000000")
    .option("--timeout <duration>", "a request with no answer after this long fails (timeout)", "5s")
    .option("--warmup <duration>", "load before the first step and after the last", "500ms")
    .option("--max-failed <n>", "pass criterion: failed requests at most", String(DEFAULT_CRITERIA.maxFailed))
    .option(
      "--max-latency <duration>",
      "pass criterion: every latency below",
      `${DEFAULT_CRITERIA.maxLatencyMs}ms`,
    )
    .option(
      "--max-mean-latency <duration>",
      "pass criterion: mean latency below",
      `${DEFAULT_CRITERIA.maxMeanLatencyMs}ms`,
    )
    .option(
      "--min-expected-colour <percent>",
      "pass criterion: share of answers from the expected colour after each switch",
      String(DEFAULT_CRITERIA.minExpectedPercent),
    )
    .option("--junit <file>", "also write JUnit XML here (for CI)")
    .option("--record <file>", "also write every request here, one JSON object a line")
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await verify(flags, context);
    });
}

async function verify(flags: VerifyFlags, context: VerifyCommandContext): Promise<number> {
  const steps = sequenceOf(flags);
  const faultSettings = faultSettingsOf(flags);
  // The drill and its faults load here, after the flags are checked, not with every `cutover` call.
  const [{ selectFaults }, { runVerify }] = await Promise.all([
    import("../../verify/faults/fault-registry.js"),
    import("../../verify/verify-run.js"),
  ]);
  const faults = flags.faults === undefined ? [] : selectFaults(flags.faults, faultSettings);
  const load = loadSettingsOf(flags);
  const criteria = criteriaOf(flags);
  const onCluster = flags.url === undefined && context.config().config.platform === "kubernetes";
  const cluster = onCluster ? await kubernetes(context, faults.length) : null;
  const { target, driver, faultTarget } =
    cluster ??
    (flags.url === undefined ? local(context, faults.length) : remote(flags, context, faults.length));
  const out = context.output();
  const log = (line: string) => {
    if (!out.json) process.stderr.write(`cutover verify: ${line}\n`);
  };
  const every = Math.max(1, Math.floor(steps.length / 10));
  const run = runVerify({
    target,
    driver,
    steps,
    load,
    warmupMs: duration(flags.warmup, "--warmup"),
    settleMs: duration(flags.warmup, "--warmup"),
    criteria,
    faults,
    faultTarget,
    faultSettings,
    log,
    onSwitch: (done, total) => {
      if ((done.index + 1) % every === 0 || done.index + 1 === total || !done.outcome.ok) {
        log(`${done.index + 1}/${total} ${done.step}: ${done.outcome.detail}`);
      }
    },
  });
  // On Kubernetes the engine runs here: close it whatever happens (its lock, its journal), and on success
  // wait for the scale-down it scheduled, as `cutover deploy` does.
  const { report, samples } = await run.catch(async (error: unknown) => {
    await cluster?.close();
    throw error;
  });
  await cluster?.finish();
  if (flags.junit) writeFileSync(flags.junit, toJUnitXml(report));
  if (flags.record)
    writeFileSync(
      flags.record,
      samples.map((s) => JSON.stringify(s)).join("\n") + (samples.length ? "\n" : ""),
    );
  out.result(report, () => renderVerifyReport(report));
  return report.passed ? 0 : 1;
}

function local(context: VerifyCommandContext, faults: number) {
  const loaded = context.config();
  const api = AdminClient.forConfig(loaded);
  const target = checkLoadTarget(addressUrl(loaded.config.router.listen), [
    addressUrl(loaded.config.router.listen),
  ]);
  const faultTarget =
    faults === 0
      ? null
      : localCutover(loaded, api, async () => {
          await startDaemonInBackground(loaded);
        });
  const driver: SwitchDriver =
    faultTarget?.driver ??
    new AdminApiDriver(
      api,
      `the admin API of ${loaded.config.service} (${addressUrl(loaded.config.router.admin)})`,
    );
  return { target, driver, faultTarget };
}

/**
 * On Kubernetes: the engine runs in this process (as for every command there) and the load goes to the
 * active Service where this machine reaches it, `kubernetes.switchProbe.url`.
 */
async function kubernetes(context: VerifyCommandContext, faults: number) {
  const loaded = context.config();
  if (faults > 0)
    throw badInput(
      "--faults kill local processes of a cutover daemon; on Kubernetes run the switch drill alone (--switches, --sequence)",
    );
  const probe = loaded.config.kubernetes?.switchProbe?.url;
  if (probe === undefined)
    throw badInput(
      "on Kubernetes, cutover verify loads the active Service where this machine reaches it: set kubernetes.switchProbe.url, or pass --url with --switch-command",
    );
  const target = checkLoadTarget(probe, [probe]);
  const { pino, destination } = await import("pino");
  const { redactSecrets } = await import("../../config/interpolate.js");
  const logger = pino(
    { level: process.env.CUTOVER_LOG_LEVEL ?? "warn", hooks: { streamWrite: redactSecrets } },
    destination(2),
  );
  const { createKubernetesEngine } = await import("../../compose/kubernetes-engine.js");
  const kube = await createKubernetesEngine(loaded, logger);
  const driver = new EngineDriver(kube.engine, `the Services of ${loaded.config.service} on Kubernetes`);
  return { target, driver, faultTarget: null, finish: () => kube.settle(), close: () => kube.close() };
}

function remote(flags: VerifyFlags, context: VerifyCommandContext, faults: number) {
  if (!flags.switchCommand) {
    throw badInput("--url needs --switch-command: the shell command that moves traffic to the other side");
  }
  if (faults > 0) {
    throw badInput(
      "--faults act on the local cutover of cutover.yaml through its admin API; drop --url to use them",
    );
  }
  const configured: string[] = [];
  try {
    configured.push(addressUrl(context.config().config.router.listen));
  } catch {
    // No usable cutover.yaml: only loopback targets are allowed.
  }
  const target = checkLoadTarget(flags.url as string, configured);
  const driver = new CommandDriver({
    switchCommand: flags.switchCommand,
    ...(flags.rollbackCommand ? { rollbackCommand: flags.rollbackCommand } : {}),
    ...(flags.deployCommand ? { deployCommand: flags.deployCommand } : {}),
    timeoutMs: 10 * 60_000,
  });
  return { target, driver, faultTarget: null };
}

function sequenceOf(flags: VerifyFlags): DrillStep[] {
  const parts: string[] = [];
  if (flags.sequence !== undefined) parts.push(flags.sequence);
  if (flags.switches !== undefined) parts.push(`switches:${whole(flags.switches, "--switches", 1)}`);
  if (parts.length === 0) return flags.faults === undefined ? parseSequence("switch,rollback") : [];
  return parseSequence(parts.join(","));
}

function faultSettingsOf(flags: VerifyFlags): FaultSettings {
  return {
    ...(flags.unhealthyVersion ? { unhealthyVersion: flags.unhealthyVersion } : {}),
    ...(flags.slowVersion ? { slowVersion: flags.slowVersion } : {}),
    ...(flags.erroringVersion ? { erroringVersion: flags.erroringVersion } : {}),
    longRequestMs: duration(flags.longRequest, "--long-request"),
    longRequestPath: path(flags.longRequestPath, "--long-request-path"),
    websocketPath: path(flags.websocketPath, "--websocket-path"),
  };
}

function loadSettingsOf(flags: VerifyFlags): LoadSettings {
  return {
    connections: whole(flags.connections, "--connections", 1, 10_000),
    ratePerSecond: flags.rate === undefined ? null : whole(flags.rate, "--rate", 1, 100_000),
    connectionMode: flags.connectionMode,
    path: path(flags.path, "--path"),
    timeoutMs: duration(flags.timeout, "--timeout"),
    maxDurationMs: duration(flags.duration, "--duration"),
    maxRequests: whole(flags.maxRequests, "--max-requests", 1),
  };
}

function criteriaOf(flags: VerifyFlags): PassCriteria {
  return {
    maxFailed: whole(flags.maxFailed, "--max-failed", 0),
    maxLatencyMs: duration(flags.maxLatency, "--max-latency"),
    maxMeanLatencyMs: duration(flags.maxMeanLatency, "--max-mean-latency"),
    minExpectedPercent: percent(flags.minExpectedColour, "--min-expected-colour"),
  };
}

const badInput = (message: string) => new CutoverError("BAD_ARGUMENT", message);

function whole(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badInput(`${flag} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw badInput(`${flag} expects a duration such as "500ms", "2s" or "1m", got "${value}"`);
  return ms;
}

function percent(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw badInput(`${flag} expects a percentage from 0 to 100, got "${value}"`);
  return n;
}

function path(value: string, flag: string): string {
  if (!value.startsWith("/")) throw badInput(`${flag} expects a path starting with /, got "${value}"`);
  return value;
}
