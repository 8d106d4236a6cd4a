import { setTimeout as sleep } from "node:timers/promises";
import { otherColour } from "../../colour.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import type { AdminApiDriver } from "../admin-api-driver.js";
import { epochNow } from "../clock.js";
import { isFailure, type LoadGenerator, type LoadSample } from "../load-generator.js";

/** Runs `work` under load; returns what it returned and every request sent meanwhile. */
export async function underLoad<T>(
  load: LoadGenerator,
  work: () => Promise<T>,
  marginMs = 300,
): Promise<{ value: T; samples: readonly LoadSample[] }> {
  load.start();
  try {
    await sleep(marginMs);
    const value = await work();
    await sleep(marginMs);
    return { value, samples: await load.stop() };
  } finally {
    await load.stop();
  }
}

/** Polls `probe` every 50 ms until it gives a value; null after `timeoutMs`. */
export async function poll<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = epochNow() + timeoutMs;
  while (epochNow() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await sleep(50);
  }
  return null;
}

export function failures(samples: readonly LoadSample[], from = -Infinity, to = Infinity): LoadSample[] {
  return samples.filter((s) => s.sentAt >= from && s.sentAt < to && isFailure(s));
}

export function describeActive(status: ServiceStatus): string {
  return `${status.active} (${status.colours[status.active].recordedVersion ?? "?"})`;
}

export function idleColour(status: ServiceStatus) {
  return otherColour(status.active);
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * "4 requests of 128 failed (3 × HTTP 502, 1 × timeout)": how many failed and what they were, so that a
 * drill that did not go as expected says whether the router, the replica or the client gave up.
 */
export function failedOf(failed: readonly LoadSample[], total: number, word = "request"): string {
  const kinds = new Map<string, number>();
  for (const sample of failed) {
    const kind = sample.status === 0 ? (sample.error ?? "no answer") : `HTTP ${sample.status}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const detail = [...kinds].map(([kind, n]) => `${n} × ${kind}`).join(", ");
  return `${plural(failed.length, word)} of ${total} failed${detail === "" ? "" : ` (${detail})`}`;
}
export const ms = (n: number | null) => (n === null ? "n/a" : `${Math.round(n)} ms`);

/**
 * Makes sure the idle colour is warm, so that the next switch is an instant pointer move: when it is not,
 * switches once (which starts it, or deploys the live version to it), leaving the previous colour warm.
 */
export async function ensureWarmIdle(driver: AdminApiDriver): Promise<void> {
  const status = await driver.status();
  if (status.colours[idleColour(status)].replicas.some((r) => r.ready)) return;
  const outcome = await driver.switchOver("switch");
  if (!outcome.ok) throw new Error(`could not warm the idle colour: ${outcome.detail}`);
}
