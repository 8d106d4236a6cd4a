/*
 * A fleet deploy's record and its rules: which wave runs, where each region is, and what a halt does. Pure
 * functions of the record; the runner (fleet-deploy.ts), `cutover status` and `cutover abort` call them.
 */

export type FleetPhase = "Progressing" | "Healthy" | "Aborted";

/**
 * Where one region is in a fleet deploy:
 *   pending      not started (its wave has not come, or the fleet halted first: it never switched);
 *   deploying    its cutover runs the blue-green cycle;
 *   paused       its deploy waits for `cutover promote --region`;
 *   switched     serves the new version, its old colour still warm;
 *   failed       its deploy failed before the switch (it stayed on the old version) or rolled back by itself,
 *                or it could not be sent back (the reason says which);
 *   stopped      its deploy was stopped by the halt before it switched: it stayed on the old version;
 *   rolled-back  switched, then sent back to the old version because the fleet halted.
 */
export type RegionState =
  | "pending"
  | "deploying"
  | "paused"
  | "switched"
  | "failed"
  | "stopped"
  | "rolled-back";

export interface FleetRegionRecord {
  readonly name: string;
  readonly wave: number;
  state: RegionState;
  /** The version the region served when the fleet deploy began. */
  readonly fromVersion: string | null;
  /** The region's own deploy record (its cutover's history holds it). */
  deployId?: string;
  /** Why it failed, or what the halt did to it. */
  reason?: string;
  /** Taken out of the global front by this deploy and not yet put back. */
  frontOut?: boolean;
  updatedAt: string;
}

export type WaveState = "pending" | "deploying" | "baking" | "passed" | "failed";

export interface FleetVerdict {
  readonly verdict: "Pass" | "Marginal" | "Fail" | "Inconclusive";
  readonly score: number | null;
  /** The judge's phrase with the numbers, and what it compared. */
  readonly reason: string;
}

export interface FleetWaveRecord {
  readonly regions: readonly string[];
  readonly bakeMs: number;
  state: WaveState;
  startedAt?: string;
  bakeEndsAt?: string;
  endedAt?: string;
  verdict?: FleetVerdict;
}

export interface FleetRecord {
  readonly id: string;
  readonly kind: "fleet-deploy";
  readonly version: string;
  phase: FleetPhase;
  readonly waves: FleetWaveRecord[];
  readonly regions: Record<string, FleetRegionRecord>;
  readonly startedAt: string;
  endedAt?: string;
  /** Why the fleet halted. */
  reason?: string;
  /** The process that runs it: `cutover abort` asks it to halt, or finishes the job itself when it is gone. */
  readonly runner: { readonly pid: number; readonly host: string };
}

export function newFleetRecord(options: {
  id: string;
  version: string;
  waves: readonly { regions: readonly string[]; bakeMs: number }[];
  fromVersions: Readonly<Record<string, string | null>>;
  runner: FleetRecord["runner"];
}): FleetRecord {
  const now = new Date().toISOString();
  const regions: Record<string, FleetRegionRecord> = {};
  options.waves.forEach((wave, w) => {
    for (const name of wave.regions)
      regions[name] = {
        name,
        wave: w,
        state: "pending",
        fromVersion: options.fromVersions[name] ?? null,
        updatedAt: now,
      };
  });
  return {
    id: options.id,
    kind: "fleet-deploy",
    version: options.version,
    phase: "Progressing",
    waves: options.waves.map((w) => ({ regions: [...w.regions], bakeMs: w.bakeMs, state: "pending" })),
    regions,
    startedAt: now,
    runner: options.runner,
  };
}

export function setRegion(record: FleetRecord, name: string, state: RegionState, reason?: string): void {
  const region = record.regions[name];
  if (!region) throw new Error(`fleet deploy ${record.id} has no region ${name}`);
  region.state = state;
  region.updatedAt = new Date().toISOString();
  if (reason !== undefined) region.reason = reason;
}

export function endFleet(record: FleetRecord, phase: "Healthy" | "Aborted", reason?: string): void {
  if (record.phase !== "Progressing")
    throw new Error(`fleet deploy ${record.id} already ended ${record.phase}`);
  record.phase = phase;
  record.endedAt = new Date().toISOString();
  if (reason !== undefined) record.reason = reason;
}

/** The regions a halt must look at: those this deploy has touched and not yet brought to an end. */
export function regionsInPlay(record: FleetRecord): FleetRegionRecord[] {
  return Object.values(record.regions).filter(
    (r) => r.state === "switched" || r.state === "paused" || r.state === "deploying",
  );
}

/**
 * Whether a region that this fleet deploy switched still serves what the deploy put there, so that a
 * rollback would send it back (and not forward again: a region's rollback goes to its other colour).
 */
export function servesNewVersion(
  record: FleetRecord,
  region: FleetRegionRecord,
  liveVersion: string | null,
): boolean {
  return liveVersion === record.version && region.fromVersion !== record.version;
}

/** "a: 2.0.0 (switched), b: 1.0.0 (rolled-back)": where each region is, for messages and the record. */
export function describeRegions(record: FleetRecord): string {
  return Object.values(record.regions)
    .map((r) => `${r.name} ${r.state}${r.reason ? ` (${r.reason})` : ""}`)
    .join("; ");
}
