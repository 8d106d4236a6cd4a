/**
 * The demo service's database, when cutover gives it one: DATABASE_URL (with the colour's search_path in
 * its options). Without DATABASE_URL every call is a no-op, so the demo runs without a database too.
 *
 * Version 1 knows greetings(id, message, created_at) from migration 0001; version 2 also knows `author`,
 * which migration 0002 adds. Both read and write the same table at the same time during a deploy.
 */
import type { Pool } from "pg";

export interface Greeting {
  readonly id: number;
  readonly message: string;
  /** Only versions that know the column (2.x) read it; null otherwise. */
  readonly author: string | null;
}

export interface GreetingStore {
  readonly enabled: boolean;
  /** Records one greeting; null without a database. */
  record(message: string, author: string): Promise<Greeting | null>;
  /** The latest greetings, newest first; empty without a database. */
  recent(limit?: number): Promise<Greeting[]>;
  close(): Promise<void>;
}

export interface GreetingStoreOptions {
  /** Default: process.env.DATABASE_URL. */
  readonly url?: string;
  /** True for versions built after migration 0002 (2.x): they write and read `author`. */
  readonly knowsAuthor: boolean;
}

interface Row {
  readonly id: string | number;
  readonly message: string;
  readonly author?: string | null;
}

export function greetingStore(options: GreetingStoreOptions): GreetingStore {
  const url = options.url ?? process.env.DATABASE_URL;
  if (!url) {
    return { enabled: false, record: async () => null, recent: async () => [], close: async () => undefined };
  }
  // pg is loaded only when there is a database: most replicas the tests start have none.
  const pool = import("pg").then(({ default: pg }) => {
    const created: Pool = new pg.Pool({ connectionString: url, max: 4 });
    created.on("error", () => {
      // An idle connection that broke is replaced on the next query.
    });
    return created;
  });
  const columns = options.knowsAuthor ? "id, message, author" : "id, message";
  const toGreeting = (row: Row): Greeting => ({
    id: Number(row.id),
    message: row.message,
    author: row.author ?? null,
  });
  return {
    enabled: true,
    async record(message, author) {
      const result = options.knowsAuthor
        ? await (await pool).query<Row>(
            `INSERT INTO greetings (message, author) VALUES ($1, $2) RETURNING ${columns}`,
            [message, author],
          )
        : await (await pool).query<Row>(`INSERT INTO greetings (message) VALUES ($1) RETURNING ${columns}`, [
            message,
          ]);
      const row = result.rows[0];
      return row ? toGreeting(row) : null;
    },
    async recent(limit = 5) {
      const result = await (await pool).query<Row>(
        `SELECT ${columns} FROM greetings ORDER BY id DESC LIMIT $1`,
        [limit],
      );
      return result.rows.map(toGreeting);
    },
    close: async () => (await pool).end(),
  };
}
