/**
 * The rename scenario's service and migrations, shared by the one-machine and the Kubernetes tests: the
 * items app (v1 calls the column `name`, v2 `title`), the migration that creates the table, and the rename.
 */
import { resolve } from "node:path";

export const ITEMS_APP = resolve(import.meta.dirname, "../fixtures/items-app.mjs");

export const CREATE_ITEMS = `-- cutover:phase expand
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
-- cutover:down
DROP TABLE items;
`;

export const RENAME_NAME_TO_TITLE = `-- cutover:phase expand
ALTER TABLE items RENAME COLUMN name TO title;
-- cutover:down
ALTER TABLE items RENAME COLUMN title TO name;
`;
