/**
 * The fleet dashboard in headless Chromium: two regions on this machine, each a real cutover daemon, the
 * fleet dashboard's server in the test process over them, and a real fleet deploy under load. Then the
 * same from the CLI: `cutover dashboard` on the fleet's cutover.yaml serves it until SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { AdminClient } from "../../src/control/admin-client.js";
import { DaemonControl } from "../../src/control/daemon-control.js";
import { FLEET_API_PATH, FleetDashboardServer } from "../../src/dashboard/fleet-dashboard-server.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import type { FleetView } from "../../src/fleet/model/fleet-view.js";
import { readFleetView } from "../../src/fleet/read-fleet-view.js";
import type { Region } from "../../src/fleet/region.js";
import { silentLogger } from "../../src/log.js";
import {
  deployWithin,
  FLEET_ANALYSIS,
  fleetConfig,
  type RegionUnderTest,
  startRegions,
  stopRegions,
  usersOnBlue,
} from "../fleet/fleet-helpers.js";
import { CLI, ROOT, runCli } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";
import { WEB_DIR } from "./dashboard-daemon.js";
import { chromiumMissing, type HeadlessChromium, launchChromium } from "./headless-chromium.js";

const skip = chromiumMissing !== null && process.env.CI !== "true";

const FLEET = `waves:
  - [a]
  - [b]
fleet: { bake: 1s, judgeInterval: 250ms }
${FLEET_ANALYSIS}`;

/** The text of the first element `selector` finds ("" when it has none). */
const text = async (page: Page, selector: string) =>
  (await page.locator(selector).first().textContent()) ?? "";

describe.skipIf(skip)(
  `the fleet dashboard in headless Chromium${skip ? ` (skipped: ${chromiumMissing})` : ""}`,
  () => {
    let regions: RegionUnderTest[] = [];
    let configFile: string;
    let fleet: Fleet;
    let server: FleetDashboardServer;
    let browser: HeadlessChromium;
    let page: Page;

    beforeAll(async () => {
      if (chromiumMissing) throw new Error(`CI=true and ${chromiumMissing}`);
      [regions, browser] = await Promise.all([startRegions(["a", "b"]), launchChromium()]);
      configFile = fleetConfig(regions, FLEET);
      fleet = await Fleet.open(loadConfig(configFile), silentLogger());
      server = await FleetDashboardServer.start({
        listen: { host: "127.0.0.1", port: 0 },
        read: () => readFleetView({ service: "testsvc", regions: fleet.regions, store: fleet.store }, 2_000),
        webDir: WEB_DIR,
        logger: silentLogger(),
      });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await fleet?.close();
      await stopRegions(regions);
    });

    it("answers 401 without the token and serves only the empty page shell", async () => {
      for (const headers of [{}, { authorization: `Bearer ${"0".repeat(64)}` }]) {
        const refused = await fetch(server.base + FLEET_API_PATH, { headers });
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { error: string }).error).toBe("UNAUTHORISED");
      }
      const shell = await fetch(`${server.base}/dashboard/`);
      expect(shell.status).toBe(200);
      expect(shell.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
      const html = await shell.text();
      expect(html).toContain('src="fleet-app.js"');
      expect(html).not.toMatch(/testsvc|1\.0\.0/);
      expect(html).not.toContain(server.token);
      expect(server.url).toBe(`${server.base}/dashboard/#token=${server.token}`);
      await expect(
        FleetDashboardServer.start({
          listen: { host: "0.0.0.0", port: 8090 },
          read: () => Promise.reject(new Error("never read")),
          logger: silentLogger(),
        }),
      ).rejects.toThrow(/loopback only/);
    });

    it("shows each region, where it is reached, its live and idle versions, and no fleet deploy yet", async () => {
      page = await browser.context.newPage();
      await page.goto(server.url);
      await page.locator("#connection[data-state=live]").waitFor();
      expect(page.url()).not.toContain("token");
      expect(await text(page, "#service")).toBe("testsvc");
      for (const region of regions) {
        const card = `[data-region=${region.name}]`;
        await page.locator(`${card}[data-state=reachable][data-live=blue]`).waitFor();
        expect(await text(page, `${card} [data-field=live]`)).toBe("blue 1.0.0");
        expect(await text(page, `${card} [data-field=health]`)).toBe("Healthy");
        expect(await text(page, `${card} [data-field=where]`)).toBe(
          `http://127.0.0.1:${region.project.admin}`,
        );
      }
      expect(await text(page, "#fleet-phase")).toBe("No fleet deploy yet.");
    });

    it("follows a fleet deploy of 2.0.0: Progressing, then Healthy with both waves passed and 2.0.0 in every region", async () => {
      const loads = regions.map((r) => steadyLoad(r.url, { ratePerSecond: 40, maxDurationMs: 40_000 }));
      try {
        await usersOnBlue(fleet);
        const deploy = deployWithin(fleet, "2.0.0", 45_000);
        await page.locator("#fleet-phase[data-phase=Progressing]").waitFor({ timeout: 10_000 });
        const record = await deploy;
        expect(record.phase, record.reason).toBe("Healthy");
      } finally {
        await Promise.all(loads.map((l) => l.stop()));
      }
      await page.locator("#fleet-phase[data-phase=Healthy]").waitFor({ timeout: 5_000 });
      expect(await text(page, "#fleet-deploy-name")).toMatch(/ of 2\.0\.0$/);
      expect(await page.locator(".wave[data-state=passed]").count()).toBe(2);
      expect(await text(page, ".wave[data-wave='1']")).toContain("a (switched): passed");
      expect(await text(page, ".wave[data-wave='1'] [data-field=verdict]")).toMatch(
        /^(Pass|Marginal|Inconclusive).*a \(new\) against b \(old\)/,
      );
      for (const region of regions) {
        const card = `[data-region=${region.name}]`;
        await page.locator(`${card}[data-live=green]`).waitFor();
        expect(await text(page, `${card} [data-field=live]`)).toBe("green 2.0.0");
        expect(await text(page, `${card} [data-field=idle]`)).toBe("blue 1.0.0 (warm)");
        expect(await text(page, `${card} [data-field=deploy]`)).toMatch(
          /deploy 2\.0\.0, blue → green Healthy/,
        );
        expect(await text(page, `${card} [data-field=fleet-state]`)).toBe("switched");
      }
    });

    it("shows a region whose daemon is stopped as unreachable, with the reason, and the others as before", async () => {
      const b = regions[1] as RegionUnderTest;
      await b.stop();
      await page.locator("[data-region=b][data-state=unreachable]").waitFor({ timeout: 10_000 });
      expect(await text(page, "[data-region=b] [data-field=error]")).toMatch(
        new RegExp(`127\\.0\\.0\\.1:${b.project.admin}.*did not answer`),
      );
      expect(await text(page, "[data-region=b] [data-field=fleet-state]")).toBe("switched");
      expect(await text(page, "#fleet-summary")).toBe("2 regions, 1 unreachable");
      expect(await text(page, "[data-region=a] [data-field=live]")).toBe("green 2.0.0");
      expect(await text(page, "#fleet-phase")).toBe("Healthy");
    });

    it("gives a region that accepts but never answers its timeout, without holding up the others", async () => {
      const held = new Set<Socket>();
      const silent = createServer((socket) => held.add(socket));
      silent.listen(0, "127.0.0.1");
      await once(silent, "listening");
      const where = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const a = fleet.regions[0] as Region;
      const hung: Region = {
        name: "hung",
        where,
        control: new DaemonControl(new AdminClient(where, "t".repeat(32))),
        metrics: a.metrics,
      };
      try {
        const started = Date.now();
        const view = await readFleetView({ service: "testsvc", regions: [a, hung], store: fleet.store }, 500);
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(view.regions[0]).toHaveProperty("status.active", "green");
        expect(view.regions[1]).toEqual({ region: "hung", where, error: "no answer within 0.5 s" });
      } finally {
        for (const socket of held) socket.destroy();
        silent.close();
      }
    });

    it("`cutover dashboard` on the fleet serves it until SIGTERM; --region NAME gives that region's daemon's; a non-loopback --listen is refused", async () => {
      const project = { config: configFile };
      const [refused, one, none] = await Promise.all([
        runCli(project, "dashboard", "--listen", "0.0.0.0:8090"),
        runCli(project, "--json", "--region", "a", "dashboard"),
        runCli(project, "--region", "nope", "dashboard"),
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/loopback only/);
      // --region NAME: that region's own daemon's dashboard, at the admin address regions[] gives.
      const a = regions[0] as RegionUnderTest;
      expect(one.stderr).toBe("");
      const token = readFileSync(join(loadConfig(a.project.config).stateDir, "token"), "utf8").trim();
      expect(JSON.parse(one.stdout)).toMatchObject({
        url: `http://127.0.0.1:${a.project.admin}/dashboard/#token=${token}`,
        service: "testsvc",
        active: "green",
      });
      expect([none.code, none.stderr]).toEqual([
        2,
        expect.stringMatching(/no such region.*regions are a, b/),
      ]);

      const child = spawn(process.execPath, [CLI, "--config", configFile, "--json", "dashboard"], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      try {
        const { url } = await firstJson<{ url: string }>(child);
        const base = new URL(url).origin;
        const token = new URL(url).hash.replace("#token=", "");
        expect((await fetch(base + FLEET_API_PATH)).status).toBe(401);
        const answer = await fetch(base + FLEET_API_PATH, { headers: { authorization: `Bearer ${token}` } });
        expect(answer.status).toBe(200);
        const view = (await answer.json()) as FleetView;
        expect(view.regions.map((r) => [r.region, "error" in r])).toEqual([
          ["a", false],
          ["b", true],
        ]);
        expect(view.fleetDeploy?.phase).toBe("Healthy");
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        expect((await exited)[0]).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  },
);

/** The CLI's --json result: the first complete JSON value on its stdout. */
function firstJson<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        // not whole yet
      }
    });
    child.once("exit", (code) => reject(new Error(`cutover dashboard exited ${code}: ${err}`)));
  });
}
