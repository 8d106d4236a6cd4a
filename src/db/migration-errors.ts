import { CutoverError, type ErrorCode } from "../errors.js";

/** A migration file cutover cannot read: bad name, no phase header, SQL that does not parse. */
export class MigrationFileError extends CutoverError {
  readonly file: string;
  constructor(file: string, problem: string, line?: number) {
    super("MIGRATION_FILE_INVALID", `${file}${line ? `:${line}` : ""}: ${problem}`);
    this.name = "MigrationFileError";
    this.file = file;
  }
}

/** An applied migration's file was edited afterwards. */
export class ChecksumMismatchError extends CutoverError {
  constructor(id: string, applied: string, now: string) {
    super(
      "MIGRATION_CHANGED",
      `${id} was changed after it was applied (checksum ${applied.slice(0, 12)} when applied, ${now.slice(0, 12)} now); ` +
        "restore the file as it was applied (e.g. from version control) and put the change in a new migration",
    );
    this.name = "ChecksumMismatchError";
  }
}

/** The history names a migration whose file is gone. */
export class AppliedFileMissingError extends CutoverError {
  constructor(id: string, folder: string) {
    super(
      "MIGRATION_FILE_MISSING",
      `${id} is applied but its file is not in ${folder}; restore the file (it is needed for checksums and \`migrate down\`)`,
    );
    this.name = "AppliedFileMissingError";
  }
}

/** A new expand migration sorts before one that is already applied. */
export class OutOfOrderError extends CutoverError {
  constructor(id: string, latest: string) {
    super(
      "MIGRATION_OUT_OF_ORDER",
      `${id} is new but sorts before ${latest}, which is already applied; ` +
        `give it a version after ${latest.split("_")[0]} (rename the file) so every database applies migrations in one order`,
    );
    this.name = "OutOfOrderError";
  }
}

/** A migration's statement failed; its transaction was rolled back. */
export class MigrationFailedError extends CutoverError {
  readonly sqlState: string | null;
  constructor(message: string, sqlState: string | null, code: ErrorCode = "MIGRATION_FAILED") {
    super(code, message);
    this.name = "MigrationFailedError";
    this.sqlState = sqlState;
  }
}

/** Another runner holds the migration lock and the config says not to wait (or the wait ran out). */
export class MigrationLockBusyError extends CutoverError {
  constructor(detail: string) {
    super(
      "MIGRATION_LOCK_BUSY",
      `another migration runner holds the migration lock (${detail}); wait for it to finish and run again, ` +
        "or set database.advisoryLock.whenBusy: wait",
    );
    this.name = "MigrationLockBusyError";
  }
}

/** The database does not have the schema range a service version declares it needs. */
export class SchemaRangeError extends CutoverError {
  constructor(message: string) {
    super("SCHEMA_OUT_OF_RANGE", message);
    this.name = "SchemaRangeError";
  }
}

/** `migrate down` reached a migration that has no down part. */
export class NoDownPartError extends CutoverError {
  constructor(id: string) {
    super(
      "NO_DOWN_PART",
      `${id} has no down part, so it cannot be rolled back; add the SQL that undoes it under a \`-- cutover:down\` line`,
    );
    this.name = "NoDownPartError";
  }
}

/** The database could not be reached. */
export class DatabaseUnreachableError extends CutoverError {
  constructor(where: string, reason: string) {
    super(
      "DATABASE_UNREACHABLE",
      `cannot connect to the database at ${where} (${reason}); check database.url or DATABASE_URL, and that the server runs`,
    );
    this.name = "DatabaseUnreachableError";
  }
}

/** Another process has the embedded database's data folder open. */
export class EmbeddedDatabaseBusyError extends CutoverError {
  constructor(dataDir: string, pid: number) {
    super(
      "EMBEDDED_DATABASE_BUSY",
      `the embedded database in ${dataDir} is open in process ${pid} but does not answer on its port; ` +
        "wait for that process to finish (or stop it), then run again",
    );
    this.name = "EmbeddedDatabaseBusyError";
  }
}
