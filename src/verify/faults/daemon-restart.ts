import type { DeployRecord } from "../../engine/lifecycle.js";
import { epochNow } from "../clock.js";
import { isFailure, type LoadSample } from "../load-generator.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { describeActive, ms, plural, poll, underLoad } from "./fault-helpers.js";

/**
 * kill -9 of the cutover daemon in the middle of a deploy, then `cutover up`. The router and the replicas
 * live in the data plane process, which serves on while no daemon is attached: not one request may fail,
 * before, while or after the daemon is away. The new daemon takes the data plane over, serves the same colour
 * and version, and records the interrupted deploy once, as Aborted.
 */
export const daemonRestart: Fault = {
  name: "daemon-restart",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const { driver } = target;
    const before = await driver.status();
    const version = settings.slowVersion ?? before.colours[before.active].recordedVersion ?? "";
    const { value, samples } = await underLoad(load(), async () => {
      const deploy = driver.record("/deploys", { version }).catch(() => null);
      const during = await poll(async () => {
        const deploying = (await driver.status()).deploy;
        const step = deploying?.steps.find((s) => s.state === "running");
        return deploying && step?.name === "wait-healthy" ? { id: deploying.id, step: step.name } : null;
      }, target.readyTimeoutMs);
      const killedAt = epochNow();
      const pid = await target.killDaemon();
      await deploy;
      await target.restartDaemon();
      return { during, pid, killedAt, upAt: epochNow() };
    });
    const { during, pid, killedAt, upAt } = value;
    const after = await driver.status();
    const history = await driver.history();
    const outage = outageOf(samples, killedAt, upAt);
    const records = during ? history.filter((r) => r.id === during.id) : [];
    const interrupted: DeployRecord | undefined = records[0];
    const passed =
      during !== null &&
      outage.failedBefore === 0 &&
      outage.failed === 0 &&
      outage.failedAfterUp === 0 &&
      records.length === 1 &&
      interrupted?.phase === "Aborted" &&
      after.active === before.active &&
      after.health === "Healthy";
    const kinds =
      Object.entries(outage.kinds)
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ") || "none";
    return {
      expected: `no request fails while the daemon is down (the data plane process serves on); \`cutover up\` takes over ${describeActive(before)}, the interrupted deploy is in the history once, as Aborted`,
      happened: `killed the daemon (pid ${pid}) ${during ? `during ${during.step} of ${during.id}` : "(no deploy was seen in wait-healthy)"}; \`cutover up\` returned ${ms(upAt - killedAt)} after the kill; the last failed request ended ${ms(outage.lastFailureMs)} after it; ${plural(outage.failed, "request")} of ${outage.sent} sent meanwhile failed (${kinds}), ${outage.failedAfterUp} after; live: ${describeActive(after)} ${after.health}; ${during?.id ?? "the deploy"} in the history ${plural(records.length, "time")}${interrupted ? ` as ${interrupted.phase}` : ""}`,
      passed,
      samples,
      figures: {
        upReturnedMs: upAt - killedAt,
        lastFailureMs: outage.lastFailureMs,
        failedWhileDown: outage.failed,
        sentWhileDown: outage.sent,
        failedAfterUp: outage.failedAfterUp,
        interruptedRecords: records.length,
        interruptedPhase: interrupted?.phase ?? null,
      },
    };
  },
};

interface Outage {
  readonly sent: number;
  readonly failed: number;
  readonly kinds: Readonly<Record<string, number>>;
  /** From the kill to the end of the last failed request (null: none failed). */
  readonly lastFailureMs: number | null;
  readonly failedBefore: number;
  readonly failedAfterUp: number;
}

function outageOf(samples: readonly LoadSample[], killedAt: number, upAt: number): Outage {
  const down = samples.filter((s) => s.endedAt >= killedAt && s.sentAt < upAt);
  const failed = down.filter(isFailure);
  const kinds: Record<string, number> = {};
  for (const s of failed) {
    const kind = s.errorKind ?? `HTTP ${s.status}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  const last = failed.reduce((max, s) => Math.max(max, s.endedAt), -Infinity);
  return {
    sent: down.length,
    failed: failed.length,
    kinds,
    lastFailureMs: failed.length === 0 ? null : last - killedAt,
    // Requests in flight at the kill fail with it: only a failure over before it counts against the drill.
    failedBefore: samples.filter((s) => s.endedAt < killedAt && isFailure(s)).length,
    failedAfterUp: samples.filter((s) => s.sentAt >= upAt && isFailure(s)).length,
  };
}
