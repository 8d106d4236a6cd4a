import type { LoadSample } from "./load-generator.js";
import type { DrillSwitch } from "./switch-driver.js";

/** How one switch looked from the client side. */
export interface SwitchTiming {
  readonly index: number;
  readonly step: string;
  readonly detail: string;
  readonly ok: boolean;
  readonly from: string | null;
  /** Who had to answer once the switch was complete. */
  readonly to: string | null;
  /** From the command to the moment the driver knew it was complete. */
  readonly commandMs: number;
  /** From the command to the first answer from the new side (null: traffic did not move, or no answer came). */
  readonly toFirstNewMs: number | null;
  /** From the command to the last answer from the old side, drained requests included. */
  readonly toLastOldMs: number | null;
  /** Answers to requests sent after the switch was complete (until the next one began), and how many came from `to`. */
  readonly answeredAfter: number;
  readonly fromExpectedAfter: number;
}

/** Who answered a request: the router's colour header, else the version. */
export function sideOf(sample: LoadSample): string | null {
  return sample.colour ?? sample.version;
}

/**
 * Measures each switch against the requests: the window of switch i runs from its command to the command
 * of switch i+1 (or the end of the run). Requests are sorted by the time they were sent.
 */
export function measureSwitches(
  samples: readonly LoadSample[],
  switches: readonly DrillSwitch[],
  endedAt: number,
): SwitchTiming[] {
  const bySent = [...samples].sort((a, b) => a.sentAt - b.sentAt);
  const longest = samples.reduce((max, x) => Math.max(max, x.latencyMs), 0);
  return switches.map((s, i) => measureOne(bySent, s, switches[i + 1]?.commandAt ?? endedAt, longest));
}

function measureOne(
  bySent: readonly LoadSample[],
  s: DrillSwitch,
  windowEnd: number,
  longest: number,
): SwitchTiming {
  const from = s.outcome.from;
  const index = (t: number) => upperBound(bySent, t);
  const end = index(windowEnd);
  const sinceCommand = index(s.commandAt);
  const answered = (x: LoadSample) => x.status > 0;
  let to = s.outcome.expected;
  for (let i = sinceCommand; to === null && i < end; i += 1) {
    const side = sideOf(bySent[i] as LoadSample);
    if (side !== null && side !== from) to = side;
  }
  const moved = to !== null && from !== null && to !== from;
  let toFirstNewMs: number | null = null;
  let toLastOldMs: number | null = null;
  // A request that ended after the command was sent at most `longest` before it.
  for (let i = moved ? index(s.commandAt - longest - 1) : end; i < end; i += 1) {
    const x = bySent[i] as LoadSample;
    if (!answered(x) || x.endedAt < s.commandAt) continue;
    const side = sideOf(x);
    if (side === to && i >= sinceCommand)
      toFirstNewMs = Math.min(toFirstNewMs ?? Infinity, x.endedAt - s.commandAt);
    if (side === from) toLastOldMs = Math.max(toLastOldMs ?? 0, x.endedAt - s.commandAt);
  }
  let answeredAfter = 0;
  let fromExpectedAfter = 0;
  for (let i = index(s.completedAt); i < end; i += 1) {
    const x = bySent[i] as LoadSample;
    if (!answered(x)) continue;
    answeredAfter += 1;
    if (to === null || sideOf(x) === to) fromExpectedAfter += 1;
  }
  return {
    index: s.index,
    step: s.step,
    detail: s.outcome.detail,
    ok: s.outcome.ok,
    from,
    to,
    commandMs: s.completedAt - s.commandAt,
    toFirstNewMs,
    toLastOldMs,
    answeredAfter,
    fromExpectedAfter,
  };
}

/** The number of samples sent before `t` (they are sorted by sentAt). */
function upperBound(bySent: readonly LoadSample[], t: number): number {
  let lo = 0;
  let hi = bySent.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bySent[mid] as LoadSample).sentAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface DurationStats {
  readonly count: number;
  readonly medianMs: number | null;
  readonly maxMs: number | null;
}

export function durationStats(values: readonly (number | null)[]): DurationStats {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return { count: 0, medianMs: null, maxMs: null };
  const mid = known.length >> 1;
  const median =
    known.length % 2 ? (known[mid] as number) : ((known[mid - 1] as number) + (known[mid] as number)) / 2;
  return { count: known.length, medianMs: median, maxMs: known.at(-1) as number };
}
