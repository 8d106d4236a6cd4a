/**
 * Migrations on Kubernetes, end to end against the stand-in with real pods and a real PostgreSQL server: a
 * column rename served through versioned views while both versions run behind the Services. The old
 * version's pods read and write `name`, the new version's `title`, each through its own search_path
 * (PGOPTIONS per colour); the database URL with its password reaches the pods only through a Secret. The
 * contract runs once the old colour has no pods left.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, expect, it } from "vitest";
import { renderManifests } from "../../src/platforms/kubernetes/render-manifests.js";
import { describeOnServer, postgresTarget, type TestDatabase } from "../db/helpers/databases.js";
import {
  ITEMS_APP as APP,
  CREATE_ITEMS as CREATE,
  RENAME_NAME_TO_TITLE as RENAME,
} from "../db/helpers/items-rename.js";
import { query } from "../db/helpers/migration-project.js";
import { eventually } from "../helpers/eventually.js";
import { type ClusterFixture, replicasOf, selectorOf, startCluster } from "./cluster-fixture.js";

const PASSWORD = "s3cret-k8s";

let cluster: ClusterFixture | undefined;
let database: TestDatabase | undefined;

afterEach(async () => {
  await cluster?.close();
  await database?.close();
  cluster = undefined;
  database = undefined;
});

/** One request on a new connection, as a new client makes it (kube-proxy picks a pod per connection). */
async function call(address: { host: string; port: number }, method: string, path: string) {
  const response = await request(`http://${address.host}:${address.port}${path}`, {
    method: method as "GET",
    reset: true,
  });
  const version = response.headers["x-app-version"];
  return {
    status: response.statusCode,
    body: await response.body.json(),
    version: typeof version === "string" ? version : null,
  };
}

/** Everything cutover wrote to the cluster's Deployments, as the API server stored and received it. */
function deploymentsText(c: ClusterFixture): string {
  const stored = c.standIn.server.store.list("deployments", c.standIn.namespace);
  const sent = c.standIn.server.requests.filter((r) => r.path.includes("/deployments")).map((r) => r.body);
  return JSON.stringify([stored, sent]);
}

await describeOnServer("migrations on Kubernetes", () => {
  it("a rename: old pods use the old name, new pods the new one, through the Services; contract after the old colour has no pods; no password in any Deployment", async () => {
    database = await postgresTarget.create();
    const url = new URL(database.url);
    url.password = PASSWORD; // the server trusts loopback; the password is there to be kept out of Deployments
    const dir = mkdtempSync(join(tmpdir(), "cutover-k8s-migrations-"));
    mkdirSync(join(dir, "migrations"));
    writeFileSync(join(dir, "migrations", "0001_create_items.sql"), CREATE);
    cluster = await startCluster({
      pods: "processes",
      programs: () => APP,
      probePath: "/health",
      deploy: {
        scaleDownDelay: "6s",
        autoPromote: false,
        smoke: [{ http: { path: "/items", expectStatus: 200 } }],
      },
      sections: {
        database: { url: url.toString(), migrations: join(dir, "migrations"), requires: { "2.x": ">=0002" } },
      },
    });
    const c = cluster;

    // 1.0.0 with its schema on green (the first deploy with a database), then 2.0.0 with the rename on blue.
    const first = await c.engine();
    const paused = () =>
      eventually(
        "the deploy paused for promotion",
        () => first.engine.status().deploy?.phase === "Paused",
        30_000,
      );
    await first.engine.deploy("1.0.0");
    await paused();
    let record = await first.engine.promote();
    expect(record.phase, record.reason).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "migrate-expand")?.detail).toMatch(
      /applied 0001_create_items/,
    );
    // Both colours run 1.0.0, so the switch probe cannot tell them apart: let kube-proxy catch up.
    c.standIn.catchUpServices();
    expect(await call(c.active, "POST", "/items?v=a")).toEqual({
      status: 201,
      body: { id: 1, name: "a" },
      version: "1.0.0",
    });

    writeFileSync(join(dir, "migrations", "0002_rename_name.sql"), RENAME);
    await first.engine.deploy("2.0.0");
    await paused(); // before the switch: 1.0.0 live, 2.0.0 behind the preview Service
    expect(first.engine.status().deploy?.steps.find((s) => s.name === "migrate-expand")?.detail).toMatch(
      /applied 0002_rename_name/,
    );
    expect((await call(c.active, "POST", "/items?v=b")).body).toEqual({ id: 2, name: "b" });
    expect((await call(c.preview, "POST", "/items?v=c")).body).toEqual({ id: 3, title: "c" });
    expect((await call(c.active, "PATCH", "/items?id=3&v=c1")).body).toEqual({ id: 3, name: "c1" });
    expect((await call(c.preview, "GET", "/items")).body).toEqual([
      { id: 1, title: "a" },
      { id: 2, title: "b" },
      { id: 3, title: "c1" },
    ]);

    record = await first.engine.promote();
    expect(record.phase, record.reason).toBe("Healthy");
    expect(selectorOf(c.standIn, "shop")).toEqual({ app: "shop", version: "blue" });
    // The preview Service now selects the old colour; let kube-proxy catch up with that change.
    c.standIn.catchUpServices();
    // After the switch: 2.0.0 live, 1.0.0 still warm behind the preview Service; both read and write.
    const live = await call(c.active, "POST", "/items?v=d");
    const old = await call(c.preview, "POST", "/items?v=e");
    expect([live.version, live.body]).toEqual(["2.0.0", { id: 4, title: "d" }]);
    expect([old.version, old.body]).toEqual(["1.0.0", { id: 5, name: "e" }]);

    // No password in anything cutover rendered or applied: the pods read the URL from a Secret.
    expect(deploymentsText(c)).not.toContain(PASSWORD);
    expect(JSON.stringify(renderManifests(c.loaded.config))).not.toContain(PASSWORD);
    const env = JSON.stringify(c.standIn.get("deployments", "shop-blue"));
    expect(env).toContain('"secretKeyRef":{"name":"shop-blue-cutover-env","key":"url"}');
    expect(env).toContain("search_path=cutover_v0002");
    expect(JSON.stringify(c.standIn.get("deployments", "shop-green"))).toContain("search_path=cutover_v0001");

    // The engine scales the old colour (green, 1.0.0) down after its delay, waits until it has no pods,
    // then contracts: the old version's view schema goes, only the new name is left.
    const views = () =>
      query<{ nspname: string }>(
        database?.url as string,
        "SELECT nspname FROM pg_namespace WHERE nspname = 'cutover_v0001'",
      );
    expect(await views()).toHaveLength(1);
    await first.settle();
    expect(replicasOf(c.standIn, "deployments", "shop-green")).toBe(0);
    expect(
      c.standIn.server.store
        .list("pods", c.standIn.namespace)
        .filter((p) => JSON.stringify(p).includes('"version":"green"')),
    ).toEqual([]);
    expect(await views()).toEqual([]);
    const columns = await query<{ column_name: string }>(
      database.url,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position",
    );
    expect(columns.map((x) => x.column_name)).toEqual(["id", "title"]);
    await eventually(
      "2.0.0 serves after the contract",
      async () => (await call(c.active, "GET", "/items")).status === 200,
      5_000,
    );
    expect((await call(c.active, "POST", "/items?v=f")).body).toEqual({ id: 6, title: "f" });
  });
});
