import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { describeActive, failedOf, failures, idleColour, plural, underLoad } from "./fault-helpers.js";

/** A deploy of a version that never passes its health check: aborted, traffic never leaves the live colour. */
export const unhealthyNew: Fault = {
  name: "unhealthy-new",
  needs: "unhealthyVersion",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const version = settings.unhealthyVersion as string;
    const before = await target.driver.status();
    const { value: record, samples } = await underLoad(load(), () =>
      target.driver.record("/deploys", { version }),
    );
    const after = await target.driver.status();
    const idle = after.colours[idleColour(after)];
    const fromNew = samples.filter((s) => s.status > 0 && s.colour === idleColour(before)).length;
    const failedSamples = failures(samples);
    const failed = failedSamples.length;
    const passed =
      record.phase === "Aborted" &&
      after.active === before.active &&
      failed === 0 &&
      fromNew === 0 &&
      idle.replicas.length === 0;
    return {
      expected: `the deploy of ${version} is aborted at wait-healthy (readyTimeout ${target.readyTimeoutMs} ms), traffic never leaves ${describeActive(before)}, no request fails, the new colour is stopped`,
      happened: `${record.id} ${record.phase}${record.reason ? `: ${record.reason}` : ""}; live: ${describeActive(after)}; ${failedOf(failedSamples, samples.length)}, ${fromNew} answered by ${idleColour(before)}; ${idle.colour} runs ${plural(idle.replicas.length, "replica")}`,
      passed,
      samples,
      figures: { phase: record.phase, failed, answeredByNew: fromNew, idleReplicas: idle.replicas.length },
    };
  },
};
