import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { epochNow } from "../clock.js";
import type { Fault, FaultContext, FaultVerdict } from "./fault.js";
import { ensureWarmIdle, failedOf, failures, ms, underLoad } from "./fault-helpers.js";

interface LongAnswer {
  readonly status: number;
  readonly colour: string | null;
  readonly error: string | null;
  readonly endedAt: number;
}

/**
 * A request that takes `longRequestMs` in flight across a switch: it finishes on the old colour when it is
 * shorter than drainTimeout; otherwise the router cuts it at the drain deadline (503, documented).
 */
export const longRequest: Fault = {
  name: "long-request",
  async run({ target, settings, load }: FaultContext): Promise<FaultVerdict> {
    const duration = settings.longRequestMs;
    const path = settings.longRequestPath.replaceAll("{ms}", String(duration));
    const fits = duration < target.drainTimeoutMs;
    await ensureWarmIdle(target.driver);
    const { value, samples } = await underLoad(load(), async () => {
      const before = await target.driver.status();
      const sentAt = epochNow();
      const answer = longOne(target.listenUrl + path, duration + target.drainTimeoutMs + 10_000);
      await sleep(Math.min(200, duration / 4));
      const switchAt = epochNow();
      const switched = await target.driver.switchOver("switch");
      return { before, sentAt, switchAt, switched, long: await answer };
    });
    const { before, sentAt, switchAt, switched, long } = value;
    const old = before.active;
    const failedSamples = failures(samples);
    const failed = failedSamples.length;
    const took = long.endedAt - sentAt;
    const answeredAsExpected = fits
      ? long.status === 200 && long.colour === old
      : long.status === 503 && long.endedAt - switchAt >= target.drainTimeoutMs - 50;
    return {
      expected: fits
        ? `a ${duration} ms request sent before the switch completes with 200 from ${old} (drainTimeout ${target.drainTimeoutMs} ms lets it finish); the switch and the other requests go on without failure`
        : `a ${duration} ms request outlives drainTimeout (${target.drainTimeoutMs} ms): the router cuts it at the deadline with 503; no other request fails`,
      happened: `switch ${switched.detail}; the long request ended after ${ms(took)} with ${long.status || long.error} from ${long.colour ?? "?"}; ${failedOf(failedSamples, samples.length, "other request")}`,
      passed: switched.ok && answeredAsExpected && failed === 0,
      samples,
      figures: {
        longRequestMs: duration,
        tookMs: took,
        // From when the switch was asked for: the drain deadline (drainTimeout after the switch) comes after it.
        endedAfterSwitchMs: long.endedAt - switchAt,
        status: long.status,
        colour: long.colour,
        failed,
      },
    };
  },
};

async function longOne(url: string, timeoutMs: number): Promise<LongAnswer> {
  try {
    const response = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await response.body.dump();
    const colour = response.headers["x-cutover-colour"];
    return {
      status: response.statusCode,
      colour: typeof colour === "string" ? colour : null,
      error: null,
      endedAt: epochNow(),
    };
  } catch (error) {
    return {
      status: 0,
      colour: null,
      error: (error as { code?: string }).code ?? "error",
      endedAt: epochNow(),
    };
  }
}
