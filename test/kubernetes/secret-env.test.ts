/**
 * The rule that keeps database URLs and passwords out of Deployments: which values go to a Secret, and how a
 * PostgreSQL URL is cleaned so one Secret serves both colours (its options move to PGOPTIONS).
 */
import { afterEach, describe, expect, it } from "vitest";
import { colourDatabaseUrl } from "../../src/db/colour-connection.js";
import {
  belongsInSecret,
  splitSecretEnv,
  withoutOptions,
} from "../../src/platforms/kubernetes/secret-env.js";
import { forgetSecrets, rememberSecrets } from "../../src/secrets.js";

afterEach(() => forgetSecrets());

describe("splitSecretEnv", () => {
  it("sends a value cutover.yaml read from the environment (API_TOKEN) to the Secret, never the Deployment", () => {
    const split = splitSecretEnv({ API_TOKEN: "tok-123456", MODE: "production" });
    expect(split.plain).toEqual({ API_TOKEN: "tok-123456", MODE: "production" });
    rememberSecrets([{ name: "API_TOKEN", value: "tok-123456" }]);
    const again = splitSecretEnv({ API_TOKEN: "tok-123456", MODE: "production" });
    expect(again.secret).toEqual({ API_TOKEN: "tok-123456" });
    expect(again.plain).toEqual({ MODE: "production" });
  });

  it("sends the migrator's DATABASE_URL to the Secret without its search_path, which PGOPTIONS carries", () => {
    const url = colourDatabaseUrl("postgres://app:s3cret@db:5432/shop", "shop_v2");
    const split = splitSecretEnv({
      DATABASE_URL: url,
      PGOPTIONS: "-c search_path=shop_v2",
      CUTOVER_SCHEMA_VERSION: "0002",
    });
    expect(split.secret).toEqual({ DATABASE_URL: "postgres://app:s3cret@db:5432/shop" });
    expect(split.plain).toEqual({ PGOPTIONS: "-c search_path=shop_v2", CUTOVER_SCHEMA_VERSION: "0002" });
  });

  it("gives both colours the same Secret value", () => {
    const server = "postgres://app:s3cret@db:5432/shop?sslmode=require";
    const blue = splitSecretEnv({ DATABASE_URL: colourDatabaseUrl(server, "shop_v1") });
    const green = splitSecretEnv({ DATABASE_URL: colourDatabaseUrl(server, "shop_v2") });
    expect(blue.secret).toEqual(green.secret);
    expect(blue.secret.DATABASE_URL).toBe(server);
    // No PGOPTIONS was given: the URL's options become it, so the colour keeps its schema.
    expect(green.plain).toEqual({ PGOPTIONS: "-c search_path=shop_v2" });
  });

  it("keeps the server URL's own options, ahead of PGOPTIONS, and the rest of the query byte for byte", () => {
    // As the migrator writes it for a server URL with options of its own (search_path appended).
    const url =
      "postgres://app:pw@db/shop?application_name=my%20app&options=-c%20statement_timeout%3D5s%20-c%20search_path%3Dshop_v2";
    const split = splitSecretEnv({ DATABASE_URL: url, PGOPTIONS: "-c search_path=shop_v2" });
    expect(split.secret.DATABASE_URL).toBe("postgres://app:pw@db/shop?application_name=my%20app");
    expect(split.plain.PGOPTIONS).toBe("-c statement_timeout=5s -c search_path=shop_v2");
  });

  it("sends any URL with a password to the Secret as it is, and leaves everything else plain", () => {
    const split = splitSecretEnv({
      REDIS_URL: "redis://:hunter2@cache:6379/0?options=x",
      PUBLIC_URL: "https://shop.example.com/1.0.0",
      USER_ONLY: "postgres://app@db/shop",
      LOG_FORMAT: "json",
    });
    expect(split.secret).toEqual({ REDIS_URL: "redis://:hunter2@cache:6379/0?options=x" });
    expect(split.plain).toEqual({
      PUBLIC_URL: "https://shop.example.com/1.0.0",
      USER_ONLY: "postgres://app@db/shop",
      LOG_FORMAT: "json",
    });
  });

  it("sends DATABASE_URL to the Secret even without a password, or when it is no URL", () => {
    expect(belongsInSecret("DATABASE_URL", "postgres://db/shop")).toBe(true);
    expect(belongsInSecret("DATABASE_URL", "host=db dbname=shop")).toBe(true);
    expect(splitSecretEnv({ DATABASE_URL: "host=db dbname=shop" }).secret).toEqual({
      DATABASE_URL: "host=db dbname=shop",
    });
    expect(belongsInSecret("NOTE", "see http://user:pass@x in the docs")).toBe(false);
    expect(belongsInSecret("API", "https://token:x-oauth@api.example.com")).toBe(true);
  });
});

describe("withoutOptions", () => {
  it("cleans postgres: and postgresql: URLs only, keeping a fragment and other parameters", () => {
    expect(withoutOptions("postgresql://a:b@h/d?options=-c%20x%3D1&sslmode=require#f")).toEqual({
      url: "postgresql://a:b@h/d?sslmode=require#f",
      options: "-c x=1",
    });
    expect(withoutOptions("postgres://a:b@h/d")).toEqual({ url: "postgres://a:b@h/d", options: "" });
    expect(withoutOptions("mysql://a:b@h/d?options=x")).toEqual({
      url: "mysql://a:b@h/d?options=x",
      options: "",
    });
  });
});
