import { z } from "zod";

/** Sizes in config: "512KiB", "10MiB", "1GiB", "500kB", "10MB", or a bare number of bytes. */
const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = PATTERN.exec(value.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] || "b").toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

/** `logs:` in cutover.yaml: how daemon.log and each replica's log are kept from filling the disk. */
export const logsSchema = z
  .strictObject({
    maxSize: z
      .union([z.string(), z.number()])
      .default("10MiB")
      .transform((value, ctx) => {
        const bytes = parseByteSize(value);
        if (bytes === undefined) {
          ctx.addIssue({ code: "custom", message: 'expected a size such as "512KiB", "10MiB" or "1GiB"' });
          return z.NEVER;
        }
        return bytes;
      })
      .meta({ description: 'A log file is rotated once it would grow past this size (bytes, or "10MiB").' }),
    keep: z.int().min(1).max(100).default(5).meta({
      description: "How many rotated files of each log are kept (daemon.log.1 ... daemon.log.<keep>).",
    }),
  })
  .prefault({})
  .meta({ description: "Rotation of .cutover/daemon.log and the replicas' logs in .cutover/logs/." });

export type LogsConfig = z.output<typeof logsSchema>;
