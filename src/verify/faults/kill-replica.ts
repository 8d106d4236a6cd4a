import type { Colour } from "../../colour.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { epochNow } from "../clock.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { ensureWarmIdle, failedOf, failures, idleColour, ms, poll, underLoad } from "./fault-helpers.js";

interface Killed {
  readonly colour: Colour;
  readonly index: number;
  readonly pid: number;
  readonly restartedMs: number | null;
  /** epochNow() when it was seen ready again. */
  readonly readyAt: number | null;
}

/**
 * kill -9 of a replica of the live colour under load, then of a replica of the warm idle colour followed by
 * a switch to it. With two or more replicas no request may fail: the router sends a GET whose connection
 * broke to another replica, the health check takes the dead one out, the supervisor starts it again.
 */
export const killReplica: Fault = {
  name: "kill-replica",
  async run({ target, load }: FaultContext): Promise<FaultVerdict> {
    const { driver } = target;
    const several = target.replicas >= 2;
    const restartBudget = target.readyTimeoutMs + 15_000;
    await ensureWarmIdle(driver);
    const { value, samples } = await underLoad(load(), async () => {
      const before = await driver.status();
      const live = await killOne(target.driver, before, before.active, restartBudget);
      const now = await driver.status();
      const idle = idleColour(now);
      const warm = now.colours[idle].replicas.some((r) => r.ready);
      const idleKill = warm ? await killOne(driver, now, idle, 0).catch(() => null) : null;
      const switched = idleKill ? await driver.follow("/rollback", {}) : null;
      return { before, live, idleKill, switched };
    });
    const { live, idleKill, switched } = value;
    const failed = failures(samples);
    const recovered = live.restartedMs !== null;
    const expected = several
      ? `no request fails when a replica of the live colour is killed (the router retries it on another replica, the supervisor restarts the dead one); a switch to the idle colour after one of its replicas was killed waits until it is healthy, then moves traffic with no failure`
      : `with 1 replica per colour, requests to the live colour fail until the supervisor has restarted the killed replica (then none fails)`;
    const happened = [
      `killed ${live.colour}-${live.index} (pid ${live.pid}): ${recovered ? `restarted and ready again after ${ms(live.restartedMs)}` : "not ready again in time"}`,
      idleKill
        ? `killed idle ${idleKill.colour}-${idleKill.index} (pid ${idleKill.pid}), then switched: ${switched?.detail ?? "?"}`
        : "the idle colour was no longer warm (scaled down): its part was skipped",
      failedOf(failed, samples.length),
    ].join("; ");
    const passed =
      recovered &&
      (switched === null || switched.ok) &&
      (several ? failed.length === 0 : failures(samples, live.readyAt ?? Infinity).length === 0);
    return {
      expected,
      happened,
      passed,
      samples,
      figures: {
        killedPid: live.pid,
        restartedMs: live.restartedMs,
        idleKilledPid: idleKill?.pid ?? null,
        switchOk: switched?.ok ?? null,
        failed: failed.length,
      },
    };
  },
};

/** Kills a ready replica of `colour`; waits up to `waitMs` for the supervisor to have it ready again. */
async function killOne(
  driver: FaultContext["target"]["driver"],
  status: ServiceStatus,
  colour: Colour,
  waitMs: number,
): Promise<Killed> {
  const replica = status.colours[colour].replicas.find((r) => r.ready && r.pid !== null);
  if (!replica || replica.pid === null) throw new Error(`${colour} has no ready replica to kill`);
  const { index, restarts, pid } = replica;
  const killedAt = epochNow();
  process.kill(pid, "SIGKILL");
  if (waitMs === 0) return { colour, index, pid, restartedMs: null, readyAt: null };
  const back = await poll(async () => {
    const now = (await driver.status()).colours[colour].replicas.find((r) => r.index === index);
    return now && now.restarts > restarts && now.ready ? epochNow() : null;
  }, waitMs);
  return { colour, index, pid, restartedMs: back === null ? null : back - killedAt, readyAt: back };
}
