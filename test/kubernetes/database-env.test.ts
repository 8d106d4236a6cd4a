/**
 * The database URL the migrator hands a colour never reaches a Deployment as a plain value: on the stand-in
 * cluster, start() writes it (without its search_path) to the colour's Secret shop-<colour>-cutover-env and the Deployment reads
 * it from there, while PGOPTIONS and CUTOVER_SCHEMA_VERSION stay plain per colour.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ClusterFixture, startCluster } from "./cluster-fixture.js";
import type { JsonObject } from "./stand-in/json.js";

let cluster: ClusterFixture | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const migratorEnv = (schema: string, version: string) => ({
  DATABASE_URL: `postgres://app:s3cret@db:5432/shop?options=-c%20search_path%3D${schema}`,
  PGOPTIONS: `-c search_path=${schema}`,
  CUTOVER_SCHEMA_VERSION: version,
});

function containerEnv(cluster: ClusterFixture, colour: string): JsonObject[] {
  const spec = cluster.standIn.get("deployments", `shop-${colour}`)?.spec as JsonObject;
  const template = spec.template as JsonObject;
  const [container] = (template.spec as JsonObject).containers as JsonObject[];
  return (container?.env as JsonObject[]) ?? [];
}

const entry = (env: readonly JsonObject[], name: string) => env.find((e) => e.name === name);

describe("the database URL on Kubernetes", () => {
  it("goes to a Secret without its search_path; the Deployment reads it there and gets PGOPTIONS per colour", async () => {
    cluster = await startCluster();
    const { platform } = await cluster.engine();
    await platform.start("green", "2.0.0", 2, migratorEnv("shop_v2", "0002"));

    const green = cluster.standIn.get("deployments", "shop-green");
    expect(JSON.stringify(green)).not.toContain("s3cret");
    const env = containerEnv(cluster, "green");
    expect(entry(env, "DATABASE_URL")).toEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "shop-green-cutover-env", key: "url" } },
    });
    expect(entry(env, "PGOPTIONS")).toEqual({ name: "PGOPTIONS", value: "-c search_path=shop_v2" });
    expect(entry(env, "CUTOVER_SCHEMA_VERSION")).toEqual({ name: "CUTOVER_SCHEMA_VERSION", value: "0002" });

    const secret = cluster.standIn.get("secrets", "shop-green-cutover-env");
    expect(secret?.type).toBe("Opaque");
    const data = secret?.data as Record<string, string>;
    expect(Object.keys(data)).toEqual(["url"]);
    expect(Buffer.from(data.url ?? "", "base64").toString("utf8")).toBe("postgres://app:s3cret@db:5432/shop");

    // The other colour on another schema: a Secret of its own (a deploy never changes what the live
    // colour's pods read when they restart), its own PGOPTIONS and schema version.
    await platform.start("blue", "1.0.0", 2, migratorEnv("shop_v1", "0001"));
    const blue = containerEnv(cluster, "blue");
    expect(entry(blue, "PGOPTIONS")?.value).toBe("-c search_path=shop_v1");
    expect(entry(blue, "CUTOVER_SCHEMA_VERSION")?.value).toBe("0001");
    expect(entry(containerEnv(cluster, "green"), "PGOPTIONS")?.value).toBe("-c search_path=shop_v2");
    expect(cluster.standIn.get("secrets", "shop-blue-cutover-env")?.data).toEqual(data);
    expect(entry(blue, "DATABASE_URL")?.valueFrom).toEqual({
      secretKeyRef: { name: "shop-blue-cutover-env", key: "url" },
    });
  });

  it("never takes over a Secret of that name that cutover did not make", async () => {
    cluster = await startCluster();
    await cluster.standIn.create([
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "shop-green-cutover-env" },
        data: { url: Buffer.from("theirs").toString("base64") },
      },
    ]);
    const { platform } = await cluster.engine();
    await expect(platform.start("green", "2.0.0", 2, migratorEnv("shop_v2", "0002"))).rejects.toThrow(
      /the Secret shop-green-cutover-env exists and was not made by cutover/,
    );
    const kept = cluster.standIn.get("secrets", "shop-green-cutover-env")?.data as Record<string, string>;
    expect(Buffer.from(kept.url ?? "", "base64").toString()).toBe("theirs");
  });

  it("reads DATABASE_URL from kubernetes.database.secret and keeps the URL out of the cluster", async () => {
    cluster = await startCluster({ kubernetes: { database: { secret: { name: "shop-db", key: "dsn" } } } });
    const { platform } = await cluster.engine();
    await platform.start("green", "2.0.0", 2, migratorEnv("shop_v2", "0002"));

    expect(JSON.stringify(cluster.standIn.get("deployments", "shop-green"))).not.toContain("s3cret");
    const env = containerEnv(cluster, "green");
    expect(entry(env, "DATABASE_URL")).toEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "shop-db", key: "dsn" } },
    });
    expect(entry(env, "PGOPTIONS")?.value).toBe("-c search_path=shop_v2");
    expect(cluster.standIn.get("secrets", "shop-green-cutover-env")).toBeNull();
  });
});
