import { z } from "zod";
import { parseDuration } from "../duration.js";

/** A duration field: "250ms", "2s", "1m", or a number of milliseconds, parsed to milliseconds. */
export const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: 'expected a duration such as "500ms", "2s" or "1m"' });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'A duration such as "500ms", "2s", "1m", or a number of milliseconds.' });
