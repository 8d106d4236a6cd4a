import { z } from "zod";

/** `database:` in cutover.yaml: migrations and the database they run against. Owned by src/db. */
export const databaseSchema = z
  .strictObject({
    migrations: z
      .string()
      .default("migrations")
      .meta({ description: "Folder of NNNN_name.sql files, relative to cutover.yaml." }),
  })
  .optional()
  .meta({ description: "Database migrations run by deploys (expand before the switch, contract after)." });

export type DatabaseConfig = z.output<typeof databaseSchema>;
