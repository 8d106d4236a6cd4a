import { z } from "zod";

/**
 * A list of { cert, key } PEM file pairs, as router.tls.certificates and the edge's tls.certificates take
 * them; `relativeTo` names the file their paths are read against, for the description.
 */
export function certificateFilesSchema(relativeTo: string) {
  return z
    .array(
      z.strictObject({
        cert: z
          .string()
          .min(1)
          .meta({ description: `PEM certificate chain file (relative to ${relativeTo}).` }),
        key: z.string().min(1).meta({ description: "Its PEM private key file." }),
      }),
    )
    .min(1, "expected at least one { cert, key } pair");
}
