import { setTimeout as sleep } from "node:timers/promises";
import { epochNow } from "../clock.js";
import { isFailure, type LoadSample } from "../load-generator.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { failedOf, failures, ms, underLoad } from "./fault-helpers.js";

/**
 * A version that passes its health check but answers with errors once it takes traffic. With post-switch
 * analysis configured, cutover must switch back by itself. Without it, cutover cannot see the errors; the
 * drill then does what an operator would (`cutover rollback`) and checks that this restores service at once.
 */
export const errorsAfterSwitch: Fault = {
  name: "errors-after-switch",
  needs: "erroringVersion",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const version = settings.erroringVersion as string;
    const { value, samples } = await underLoad(load(), async () => {
      const record = await target.driver.record("/deploys", { version });
      if (record.phase !== "Healthy") return { record, rollback: null };
      await sleep(500);
      const commandAt = epochNow();
      const rollback = await target.driver.follow("/rollback", {});
      return { record, rollback: { ...rollback, commandAt, completedAt: epochNow() } };
    });
    const { record, rollback } = value;
    const automatic = record.phase === "Aborted" && record.rolledBackAt !== undefined;
    const failed = failures(samples);
    // The app's own 5xx carries its version header; the router's own failures (502, 503) do not.
    const notFromApp = failed.filter(
      (s) => !(s.status >= 500 && s.version === version && s.colour === record.to.colour),
    );
    const restoredAt =
      rollback?.completedAt ?? (record.rolledBackAt ? Date.parse(record.rolledBackAt) + 1 : null);
    const afterRestore = restoredAt === null ? [] : samples.filter((s: LoadSample) => s.sentAt >= restoredAt);
    const badAfter = afterRestore.filter((s) => isFailure(s) || s.colour !== record.from.colour).length;
    const expected = target.analysisConfigured
      ? `post-switch analysis fails ${version} and traffic goes back to ${record.from.colour} by itself; the failed requests are all answered by ${version}; none fails after the rollback`
      : `no analysis is configured, so cutover cannot see ${version}'s errors and keeps it; every failed request is ${version}'s own 5xx (none from cutover); \`cutover rollback\` to the warm ${record.from.colour} restores service at once, with no failure after it`;
    const how = automatic
      ? `rolled back automatically: ${record.reason ?? ""}`
      : rollback
        ? `deployed (${record.phase}); after 500 ms the drill ran \`cutover rollback\`: ${rollback.detail} in ${ms(rollback.completedAt - rollback.commandAt)}`
        : `${record.id} ${record.phase}: ${record.reason ?? ""}`;
    const passed =
      (target.analysisConfigured ? automatic : rollback?.ok === true || automatic) &&
      notFromApp.length === 0 &&
      restoredAt !== null &&
      badAfter === 0;
    return {
      expected,
      happened: `${how}; ${failedOf(failed, samples.length)}, ${notFromApp.length} of them not ${version}'s own 5xx; after the rollback ${badAfter} of ${afterRestore.length} failed or came from elsewhere`,
      passed,
      samples,
      figures: {
        automaticRollback: automatic,
        failed: failed.length,
        failedNotFromApp: notFromApp.length,
        rollbackMs: rollback ? rollback.completedAt - rollback.commandAt : null,
        badAfterRollback: badAfter,
      },
    };
  },
};
