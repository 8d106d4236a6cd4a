import { describe, expect, it } from "vitest";
import { parseSchemaRange } from "../../src/config/database-schema.js";
import { parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";

const BASE = 'service: shop\nversion: 1.0.0\nstart: { command: "node server.js" }\n';

describe("database: in cutover.yaml", () => {
  it("fills every default", () => {
    const { config } = parseConfig(`${BASE}database: {}\n`, "/srv/shop/cutover.yaml");
    expect(config.database).toEqual({
      migrations: "migrations",
      schema: "public",
      embedded: { dataDir: "pglite", host: "127.0.0.1", port: 0 },
      lockTimeout: 1_000,
      statementTimeout: 600_000,
      retries: 5,
      retryDelay: 500,
      advisoryLock: { whenBusy: "wait", waitTimeout: 300_000, pollInterval: 250 },
      contract: "auto",
      requires: {},
      sync: "off",
      switchoverTimeout: 30_000,
      copyTimeout: 3_600_000,
    });
    expect(parseConfig(BASE, "/srv/shop/cutover.yaml").config.database).toBeUndefined();
  });

  it("reads a full section, durations and schema ranges", () => {
    const yaml = `${BASE}database:
  migrations: db/migrations
  url: postgres://shop@db.internal:5432/shop
  lockTimeout: 2s
  retries: 8
  advisoryLock: { whenBusy: fail }
  contract: manual
  requires:
    "1.x": "<=0003"
    "2.x": ">=0002 <=0009"
    "3.0.0": "0004..0006"
`;
    const database = parseConfig(yaml, "/srv/shop/cutover.yaml").config.database;
    expect(database?.lockTimeout).toBe(2_000);
    expect(database?.advisoryLock.whenBusy).toBe("fail");
    expect(database?.requires).toEqual({
      "1.x": { min: null, max: "0003", text: "<=0003" },
      "2.x": { min: "0002", max: "0009", text: ">=0002 <=0009" },
      "3.0.0": { min: "0004", max: "0006", text: "0004..0006" },
    });
  });

  it("says which field is wrong and what it expects", () => {
    const yaml = `${BASE}database:
  lockTimeout: soon
  contract: sometimes
  requires: { "2.x": "latest" }
  schema: "My Schema"
`;
    const error = (() => {
      try {
        parseConfig(yaml, "/srv/shop/cutover.yaml");
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    const problems = error.problems.join("\n");
    expect(problems).toContain('database.lockTimeout: expected a duration such as "500ms", "2s" or "1m"');
    expect(problems).toMatch(/database\.contract: .*"auto".*"manual"/);
    expect(problems).toContain('database.requires.2.x: expected a schema range such as ">=0002"');
    expect(problems).toContain("database.schema: expected a lower-case schema name such as public");
  });

  it("database.sync: logical needs both colours' server databases, and only then takes green's", () => {
    const problemsOf = (yaml: string): string => {
      try {
        parseConfig(yaml, "/srv/shop/cutover.yaml");
      } catch (e) {
        return (e as ConfigError).problems.join("\n");
      }
      return "";
    };
    expect(problemsOf(`${BASE}database: { sync: logical }\n`)).toBe(
      [
        "database.url: database.sync: logical needs blue's database here (a PostgreSQL server URL; the embedded database cannot replicate); got nothing",
        "database.green: database.sync: logical needs green's database: add green: { url: postgres://... }; got nothing",
      ].join("\n"),
    );
    expect(
      problemsOf(`${BASE}database: { url: "postgres://a/shop", green: { url: "postgres://b/shop" } }\n`),
    ).toBe(
      'database.green: database.green is only used with database.sync: logical; add sync: logical, or remove green; got {"url":"postgres://b/shop"}',
    );
    const synced = parseConfig(
      `${BASE}database: { url: "postgres://a/shop", sync: logical, green: { url: "postgres://b/shop" }, switchoverTimeout: 5s }\n`,
      "/srv/shop/cutover.yaml",
    ).config.database;
    expect(synced).toMatchObject({
      sync: "logical",
      green: { url: "postgres://b/shop" },
      switchoverTimeout: 5_000,
    });
    expect(
      problemsOf(
        `${BASE.replace('start: { command: "node server.js" }\n', "")}platform: kubernetes\nkubernetes: { image: "shop:{version}" }\ndatabase: { url: "postgres://a/shop", sync: logical, green: { url: "postgres://b/shop" } }\n`,
      ),
    ).toContain(
      "database.sync: logical holds requests at the router during the database switchover, which the Kubernetes Services cannot do",
    );
  });

  it("parses schema ranges", () => {
    expect(parseSchemaRange(">=0002")).toEqual({ min: "0002", max: null, text: ">=0002" });
    expect(parseSchemaRange("<=10")).toEqual({ min: null, max: "10", text: "<=10" });
    expect(parseSchemaRange("0002 .. 0004")).toEqual({ min: "0002", max: "0004", text: "0002 .. 0004" });
    for (const bad of ["", "latest", ">0002", ">=x", "1..", "=>2"])
      expect(parseSchemaRange(bad)).toBeUndefined();
  });

  it("is described in the JSON Schema for editors", () => {
    const schema = JSON.stringify(configJsonSchema());
    expect(schema).toContain("Database migrations run by deploys");
    expect(schema).toContain("lock_timeout of every migration");
  });
});
