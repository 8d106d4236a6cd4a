import { z } from "zod";
import { parseDuration } from "../duration.js";

/** A duration field: "250ms", "2s", "1m", or a number of milliseconds, parsed to milliseconds. */
export const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform(toMilliseconds)
    .meta({ description: 'A duration such as "500ms", "2s", "1m", or a number of milliseconds.' });

/** A duration field with no default: left out, it stays undefined (the caller falls back on a wider setting). */
export const optionalDuration = () =>
  z
    .union([z.string(), z.number()])
    .transform(toMilliseconds)
    .optional()
    .meta({ description: 'A duration such as "500ms", "2s", "1m", or a number of milliseconds.' });

function toMilliseconds(value: string | number, ctx: z.RefinementCtx<string | number>): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: 'expected a duration such as "500ms", "2s" or "1m"' });
    return z.NEVER;
  }
  return ms;
}
