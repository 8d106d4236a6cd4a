/** Numbers and times as the dashboard shows them. */

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function rate(perSecond: number | null): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return "–";
  return perSecond >= 100 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

export function percent(share: number | null, digits = 1): string {
  if (share === null || !Number.isFinite(share)) return "–";
  return `${(share * 100).toFixed(digits)}%`;
}

/** Seconds in, milliseconds out. */
export function latency(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  const ms = seconds * 1000;
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

export function clock(epochMs: number, withSeconds = true): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}${withSeconds ? `:${two(d.getSeconds())}` : ""}`;
}

export function dateTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(d.getTime())}`;
}
