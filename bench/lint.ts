/**
 * How long `cutover migrate lint` takes over 1,000 migration files: reading and parsing each file with the
 * real PostgreSQL parser, then linting every statement. Prints one JSON object and writes it to
 * bench/results/lint.json.
 *
 *   npm run build && node dist/bench/lint.js [--files 1000] [--rounds 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { lintMigrations } from "../src/db/lint/lint-migration.js";
import { loadPgParser } from "../src/db/pg-parser.js";
import { readMigrations } from "../src/db/read-migrations.js";

/** Statements of the kinds real migrations hold, safe and unsafe, cycled through the files. */
const STATEMENTS = [
  "CREATE TABLE t{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());",
  "CREATE INDEX CONCURRENTLY t{n}_name ON t{n} (name);",
  "ALTER TABLE users ADD COLUMN c{n} text;",
  "ALTER TABLE users ADD COLUMN s{n} text NOT NULL DEFAULT 'x';",
  "ALTER TABLE orders ADD CONSTRAINT orders_c{n} CHECK (total >= 0) NOT VALID;",
  "ALTER TABLE orders VALIDATE CONSTRAINT orders_c{n};",
  "UPDATE users SET c{n} = name WHERE id BETWEEN {n} AND {n} + 1000;",
  "CREATE INDEX users_c{n} ON users (c{n});",
  "ALTER TABLE users ALTER COLUMN c{n} SET NOT NULL;",
  "ALTER TABLE users DROP COLUMN old{n};",
  "ALTER TABLE users RENAME COLUMN a{n} TO b{n};",
  "CREATE OR REPLACE FUNCTION f{n}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;",
  "INSERT INTO settings (key, value) VALUES ('k{n}', 'v') ON CONFLICT (key) DO NOTHING;",
  "ALTER TABLE orders ADD CONSTRAINT orders_user_{n} FOREIGN KEY (user_id) REFERENCES users (id);",
];

function migrationFile(n: number): string {
  const phase = n % 5 === 0 ? "contract" : "expand";
  const count = 3 + (n % 6);
  const body = Array.from({ length: count }, (_, i) => {
    const statement = STATEMENTS[(n * 7 + i) % STATEMENTS.length] ?? "";
    return statement.replaceAll("{n}", String(n * 10 + i));
  });
  return `-- cutover:phase ${phase}\n-- generated migration ${n}\n${body.join("\n")}\n-- cutover:down\nSELECT 1;\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { files: { type: "string", default: "1000" }, rounds: { type: "string", default: "5" } },
  });
  const files = Number(values.files);
  const rounds = Number(values.rounds);
  const folder = mkdtempSync(join(tmpdir(), "cutover-bench-lint-"));
  try {
    for (let n = 1; n <= files; n++)
      writeFileSync(join(folder, `${String(n).padStart(4, "0")}_m${n}.sql`), migrationFile(n));
    const loadStarted = performance.now();
    await loadPgParser();
    const parserLoadMs = performance.now() - loadStarted;
    const timings: { readMs: number; lintMs: number; totalMs: number; cpuMs: number }[] = [];
    let statements = 0;
    let findings = 0;
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const migrations = await readMigrations(folder);
      const read = performance.now();
      const reports = await lintMigrations(migrations, { lockTimeoutMs: 1_000 });
      const done = performance.now();
      const used = process.cpuUsage(cpu);
      timings.push({
        readMs: read - started,
        lintMs: done - read,
        totalMs: done - started,
        cpuMs: (used.user + used.system) / 1000,
      });
      statements = reports.reduce((sum, r) => sum + r.statements, 0);
      findings = reports.reduce((sum, r) => sum + r.findings.length, 0);
    }
    const median = (pick: (t: (typeof timings)[number]) => number) => {
      const sorted = timings.map(pick).sort((a, b) => a - b);
      return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10;
    };
    const result = {
      files,
      statements,
      findings,
      rounds,
      parserLoadMs: Math.round(parserLoadMs),
      medianTotalMs: median((t) => t.totalMs),
      /** CPU time of this process: what the machine's other load does not inflate. */
      medianCpuMs: median((t) => t.cpuMs),
      medianReadAndParseMs: median((t) => t.readMs),
      medianLintMs: median((t) => t.lintMs),
      perFileMs: Math.round((median((t) => t.totalMs) / files) * 1000) / 1000,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "?",
        node: process.version,
        loadAverage: loadavg()[0],
      },
    };
    const out = resolve(import.meta.dirname, "../../bench/results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "lint.json"), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
