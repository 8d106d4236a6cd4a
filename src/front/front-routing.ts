import type { BuiltinFrontConfig } from "../config/fleet-schema.js";

/** priority: every request to the first region in priority order; weighted: shared by weight. */
export type FrontRouting = BuiltinFrontConfig["routing"];

/** What routing reads of a region, at the moment a request arrives. */
export interface RoutableRegion {
  readonly name: string;
  /** Lower first. */
  readonly priority: number;
  readonly weight: number;
  readonly enabled: boolean;
  /** The probe's verdict: true healthy, false failing, null not decided yet. */
  readonly healthy: boolean | null;
}

/**
 * The regions a request may go to, in priority order (ties in the order given): the enabled healthy ones;
 * while none is healthy, the enabled ones not decided yet (a front that just started, as Traffic Manager
 * serves an endpoint still "checking"). A drained or failing region is never among them.
 */
export function eligibleRegions<T extends RoutableRegion>(regions: readonly T[]): T[] {
  const enabled = regions.filter((region) => region.enabled);
  const healthy = enabled.filter((region) => region.healthy === true);
  const eligible = healthy.length > 0 ? healthy : enabled.filter((region) => region.healthy === null);
  return eligible.sort((a, b) => a.priority - b.priority);
}

/**
 * Where one request goes: the first region is the one it is sent to, the rest are where it may go again
 * if that one fails before answering (in priority order). Empty when no region may take it.
 */
export function routeOrder<T extends RoutableRegion>(
  regions: readonly T[],
  routing: FrontRouting,
  rotation: WeightedRotation,
): T[] {
  const eligible = eligibleRegions(regions);
  if (routing === "priority" || eligible.length < 2) return eligible;
  const first = rotation.pick(eligible) as T;
  return [first, ...eligible.filter((region) => region !== first)];
}

/**
 * Smooth weighted round-robin (nginx's): deterministic, and spreads each region's turns evenly instead
 * of in bursts (weights 2:1 give a, b, a, a, b, a ...).
 */
export class WeightedRotation {
  readonly #current = new Map<string, number>();

  pick<T extends RoutableRegion>(candidates: readonly T[]): T | undefined {
    let total = 0;
    let best: T | undefined;
    let bestCurrent = Number.NEGATIVE_INFINITY;
    for (const region of candidates) {
      const current = (this.#current.get(region.name) ?? 0) + region.weight;
      this.#current.set(region.name, current);
      total += region.weight;
      if (current > bestCurrent) {
        best = region;
        bestCurrent = current;
      }
    }
    if (best !== undefined) this.#current.set(best.name, bestCurrent - total);
    // A region that left the candidates (drained, failing) starts afresh when it comes back.
    if (this.#current.size > candidates.length)
      for (const name of this.#current.keys())
        if (!candidates.some((region) => region.name === name)) this.#current.delete(name);
    return best;
  }
}
