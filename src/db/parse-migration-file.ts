import { createHash } from "node:crypto";
import { basename } from "node:path";
import { isPhase, type Migration, type MigrationPart, PHASES } from "./migration.js";
import { MigrationFileError } from "./migration-errors.js";
import { type SqlComment, SqlSyntaxError, sqlComments } from "./pg-parser.js";
import { SqlText } from "./sql-text.js";

/** `0002_add_email.sql`: the version is the leading digits. */
export const MIGRATION_FILE_NAME = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.sql$/;

/** Directives are comments that start with "cutover:". `allow` belongs to a statement (see pg-parser). */
const DIRECTIVES = ["phase", "up", "down", "allow"] as const;
const DIRECTIVE_PREFIX = "cutover:";

/**
 * Reads one migration file:
 *
 *   -- cutover:phase expand          (or contract; required)
 *   ALTER TABLE users ADD COLUMN email text;
 *   -- cutover:down                  (optional; what `migrate down` runs)
 *   ALTER TABLE users DROP COLUMN email;
 *
 * The markers are found in the real scanner's comment tokens, so a marker inside a string or a function
 * body is not one.
 */
export function parseMigrationFile(path: string, content: string): Migration {
  const file = basename(path);
  const match = MIGRATION_FILE_NAME.exec(file);
  if (!match) {
    throw new MigrationFileError(
      path,
      "expected a name like 0001_create_users.sql (digits, an underscore, a name, .sql)",
    );
  }
  const [, version = "", name = ""] = match;
  const directives = readDirectives(path, content);
  const phase = onePhase(path, directives);
  const text = new SqlText(content);
  const upMarker = directives.find((d) => d.name === "up");
  const downMarker = directives.find((d) => d.name === "down");
  if (downMarker && phase.comment.startByte > downMarker.comment.startByte) {
    throw new MigrationFileError(
      path,
      "the cutover:phase line must come before cutover:down",
      phase.comment.line,
    );
  }
  const upStart = upMarker ? upMarker.comment.endByte : 0;
  const upEnd = downMarker ? downMarker.comment.startByte : text.byteLength;
  const up = part(text, upStart, upEnd);
  const down = downMarker ? part(text, downMarker.comment.endByte, text.byteLength) : null;
  const checksum = createHash("sha256").update(up.sql.replaceAll("\r\n", "\n")).digest("hex");
  return {
    version,
    name,
    id: `${version}_${name}`,
    file: path,
    phase: phase.value as Migration["phase"],
    up,
    down: down && down.sql.trim() !== "" ? down : null,
    checksum,
  };
}

interface Directive {
  readonly name: (typeof DIRECTIVES)[number];
  readonly value: string;
  readonly comment: SqlComment;
}

function readDirectives(path: string, content: string): Directive[] {
  let comments: SqlComment[];
  try {
    comments = sqlComments(content);
  } catch (error) {
    if (error instanceof SqlSyntaxError) throw new MigrationFileError(path, error.message, error.line);
    throw error;
  }
  return comments.flatMap((comment): Directive[] => {
    if (!comment.text.startsWith(DIRECTIVE_PREFIX)) return [];
    const [word = "", ...rest] = comment.text.slice(DIRECTIVE_PREFIX.length).split(/\s+/);
    const name = DIRECTIVES.find((d) => d === word);
    if (!name) {
      throw new MigrationFileError(
        path,
        `unknown directive "cutover:${word}"; expected one of ${DIRECTIVES.map((d) => `cutover:${d}`).join(", ")}`,
        comment.line,
      );
    }
    return [{ name, value: rest.join(" ").trim(), comment }];
  });
}

function onePhase(path: string, directives: readonly Directive[]): Directive {
  const phases = directives.filter((d) => d.name === "phase");
  const expected = PHASES.join(" or ");
  const [phase, second] = phases;
  if (!phase) {
    throw new MigrationFileError(
      path,
      `no phase: start the file with "-- cutover:phase expand" (keeps the running version working) or "-- cutover:phase contract" (runs after it is gone)`,
    );
  }
  if (second) throw new MigrationFileError(path, "more than one cutover:phase line", second.comment.line);
  if (!isPhase(phase.value)) {
    throw new MigrationFileError(path, `phase "${phase.value}" is not ${expected}`, phase.comment.line);
  }
  return phase;
}

function part(text: SqlText, startByte: number, endByte: number): MigrationPart {
  return { sql: text.slice(startByte, endByte), line: text.lineOf(startByte) };
}
