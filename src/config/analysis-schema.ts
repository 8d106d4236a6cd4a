import { z } from "zod";

/** `analysis:` in cutover.yaml: how a deploy is judged and rolled back. Owned by src/analysis. */
export const analysisSchema = z
  .strictObject({})
  .optional()
  .meta({ description: "Metrics, the judge of green against blue, automatic rollback, alerts and reports." });

export type AnalysisConfig = z.output<typeof analysisSchema>;
