/**
 * router.previewAccess: the idle colour through the main listener, for a request that carries the secret
 * (header or cookie), and never without it. 1,000 requests of each kind through a real router to two real
 * upstreams; the secret never reaches a replica.
 */
import { Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { PreviewAccess } from "../../src/router/preview-access.js";
import type { Router } from "../../src/router/router.js";
import { mainUrl, startRouter } from "../helpers/start-router.js";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";

const SECRET = "s3cret-preview-token-0123456789";
const running: Array<Router | TestUpstream> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await ("stop" in r ? r.stop() : r.close());
});

async function previewRouter(): Promise<{ router: Router; pool: Pool }> {
  const [blue, green] = [await startUpstream("blue"), await startUpstream("green")];
  const router = await startRouter({
    previewAccess: new PreviewAccess({
      header: "x-cutover-preview",
      cookie: "cutover-preview",
      secret: SECRET,
    }),
  });
  running.push(blue, green, router);
  router.setEndpoints("blue", [blue.endpoint]);
  router.setEndpoints("green", [green.endpoint]);
  return { router, pool: new Pool(mainUrl(router), { connections: 16 }) };
}

/** Who answered each of `count` requests with these headers, counted. */
async function answeredBy(
  pool: Pool,
  headers: Record<string, string>,
  count = 1_000,
): Promise<Map<string, number>> {
  const by = new Map<string, number>();
  const one = async () => {
    const response = await pool.request({ path: "/", method: "GET", headers });
    const who = `${response.statusCode} ${await response.body.text()}`;
    by.set(who, (by.get(who) ?? 0) + 1);
  };
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: 50 }, one));
  return by;
}

describe("router.previewAccess", () => {
  it("sends a request with the right secret, in the header or the cookie, to the idle colour; any other never", async () => {
    const { pool } = await previewRouter();
    expect(await answeredBy(pool, { "x-cutover-preview": SECRET })).toEqual(new Map([["200 green", 1_000]]));
    expect(await answeredBy(pool, { cookie: `theme=dark; cutover-preview=${SECRET}` })).toEqual(
      new Map([["200 green", 1_000]]),
    );
    expect(await answeredBy(pool, {})).toEqual(new Map([["200 blue", 1_000]]));
    expect(await answeredBy(pool, { "x-cutover-preview": `${SECRET}x` })).toEqual(
      new Map([["200 blue", 1_000]]),
    );
    expect(await answeredBy(pool, { "x-cutover-preview": "" })).toEqual(new Map([["200 blue", 1_000]]));
    expect(await answeredBy(pool, { cookie: "cutover-preview=guess" })).toEqual(
      new Map([["200 blue", 1_000]]),
    );
    await pool.close();
  });

  it("takes the secret out before forwarding: the replica sees neither the header nor the cookie, other cookies kept", async () => {
    const { pool } = await previewRouter();
    const response = await pool.request({
      path: "/headers",
      method: "GET",
      headers: { "x-cutover-preview": SECRET, cookie: `a=1; cutover-preview=${SECRET}; b=2` },
    });
    const seen = (await response.body.json()) as Record<string, string>;
    expect(response.headers["x-cutover-colour"]).toBe("green");
    expect(seen["x-cutover-preview"]).toBeUndefined();
    expect(seen.cookie).toBe("a=1; b=2");
    expect(JSON.stringify(seen)).not.toContain(SECRET);
    await pool.close();
  });

  it("/__cutover/preview?secret= sets the cookie (HttpOnly), a wrong secret gets 403, ?off clears it", async () => {
    const { pool } = await previewRouter();
    const set = await pool.request({ path: `/__cutover/preview?secret=${SECRET}`, method: "GET" });
    await set.body.dump();
    expect(set.statusCode).toBe(303);
    expect(String(set.headers["set-cookie"])).toMatch(
      new RegExp(`^cutover-preview=${SECRET}; Path=/; HttpOnly; SameSite=Lax$`),
    );
    const wrong = await pool.request({ path: "/__cutover/preview?secret=nope", method: "GET" });
    await wrong.body.dump();
    expect(wrong.statusCode).toBe(403);
    const off = await pool.request({ path: "/__cutover/preview?off", method: "GET" });
    await off.body.dump();
    expect(String(off.headers["set-cookie"])).toMatch(/^cutover-preview=; Max-Age=0/);
    await pool.close();
  });
});
