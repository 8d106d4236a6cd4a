import { afterAll } from "vitest";

/**
 * Test files share their worker's process (vitest `isolate: false`): whatever a file sets in process.env is
 * put back as it was when the file began, so that no file sees another's variables (a DATABASE_URL left
 * behind sent a later file's embedded database to the wrong server).
 */
const before = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in before)) delete process.env[name];
  Object.assign(process.env, before);
});
