import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { failedOf, failures, ms, underLoad } from "./fault-helpers.js";

/** A version that takes a while to start: the deploy waits for health, then switches; nothing answers early. */
export const slowStart: Fault = {
  name: "slow-start",
  needs: "slowVersion",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const version = settings.slowVersion as string;
    const { value: record, samples } = await underLoad(load(), () =>
      target.driver.record("/deploys", { version }),
    );
    const waited = record.steps.find((s) => s.name === "wait-healthy");
    const switchedAt = record.switchedAt ? Date.parse(record.switchedAt) : null;
    // The router picks the colour when a request arrives, which can be after it was sent: only an answer
    // complete before the switch is proof of one served early.
    const early = samples.filter(
      (s) => s.colour === record.to.colour && s.status > 0 && (switchedAt === null || s.endedAt < switchedAt),
    );
    const failedSamples = failures(samples);
    const failed = failedSamples.length;
    return {
      expected: `the deploy of ${version} stays in wait-healthy until every replica is healthy (within readyTimeout ${target.readyTimeoutMs} ms), then switches; no request fails and none is answered by the new colour before the switch`,
      happened: `${record.id} ${record.phase}${record.reason ? `: ${record.reason}` : ""}; wait-healthy took ${ms(waited?.durationMs ?? null)}${waited?.detail ? ` (${waited.detail})` : ""}; ${failedOf(failedSamples, samples.length)}; ${early.length} answered by ${record.to.colour} before the switch`,
      passed: record.phase === "Healthy" && failed === 0 && early.length === 0,
      samples,
      figures: {
        phase: record.phase,
        waitHealthyMs: waited?.durationMs ?? null,
        failed,
        early: early.length,
      },
    };
  },
};
