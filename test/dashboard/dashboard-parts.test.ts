import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { SampleTick } from "../../src/analysis/colour-sample.js";
import type { Colour } from "../../src/colour.js";
import { dashboardUrl } from "../../src/dashboard/dashboard-url.js";
import type { DeployFeed, TickFeed } from "../../src/dashboard/deploy-feed.js";
import { LiveHub } from "../../src/dashboard/live-hub.js";
import type { LiveMessage } from "../../src/dashboard/live-message.js";
import { ReportShelf } from "../../src/dashboard/report-shelf.js";
import type { EngineEvent } from "../../src/engine/engine-options.js";
import { newRecord } from "../../src/engine/lifecycle.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../helpers/eventually.js";
import { WEB_DIR } from "./dashboard-daemon.js";

describe("ReportShelf", () => {
  const dir = mkdtempSync(join(tmpdir(), "cutover-reports-"));
  mkdirSync(join(dir, "d1"));
  for (const name of ["d1.html", "d1-latency.png", "d10.html", "d1.txt", "d2.json"])
    writeFileSync(join(dir, name), "x");
  writeFileSync(join(dir, "d1", "report.html"), "x");
  writeFileSync(join(dir, "token"), "secret");
  const shelf = new ReportShelf(dir);

  it("finds each deploy's reports by id, and nothing of another deploy", () => {
    expect(shelf.index(["d1", "d2", "d3", "../x"])).toEqual({
      d1: ["d1-latency.png", "d1.html", "d1/report.html"],
      d2: ["d2.json"],
    });
  });

  it("hands out only those files", () => {
    expect(shelf.find("d1", "d1.html")?.contentType).toMatch(/text\/html/);
    expect(shelf.find("d1", "d1/report.html")?.path).toBe(join(dir, "d1", "report.html"));
    for (const [id, file] of [
      ["d1", "../token"],
      ["d1", "token"],
      ["d1", "d10.html"],
      ["d1", "d1.txt"],
      ["d1", "d2/../d1.html"],
      ["d2", "d1/report.html"],
      ["..", "d1.html"],
      ["d1", "d1/../../etc/passwd"],
    ] as const) {
      expect(shelf.find(id, file), `${id} ${file}`).toBeNull();
    }
  });
});

it("the browser modules import nothing but each other (everything else would need the token)", () => {
  const modules = readdirSync(WEB_DIR).filter((n) => n.endsWith(".js"));
  expect(modules).toContain("app.js");
  for (const name of modules) {
    const text = readFileSync(join(WEB_DIR, name), "utf8");
    for (const [, from] of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)) {
      expect(from, `${name} imports ${from}`).toMatch(/^\.\/[a-z0-9-]+\.js$/);
    }
    expect(text, name).not.toMatch(/\bimport\(/);
  }
});

it("dashboardUrl puts the token in the fragment and reaches a wildcard address on loopback", () => {
  expect(dashboardUrl("http://127.0.0.1:8079", "t/k")).toBe("http://127.0.0.1:8079/dashboard/#token=t%2Fk");
  expect(dashboardUrl("http://0.0.0.0:8079", "t")).toBe("http://127.0.0.1:8079/dashboard/#token=t");
});

describe("LiveHub", () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  function fakes() {
    const engineListeners = new Set<(e: EngineEvent) => void>();
    const tickListeners = new Set<(t: SampleTick) => void>();
    let version = "1.0.0";
    const record = newRecord(
      "d1",
      "deploy",
      "2.0.0",
      { colour: "blue", version: "1.0.0" },
      { colour: "green", version: "2.0.0" },
    );
    const engine: DeployFeed = {
      status: () =>
        ({
          service: "svc",
          active: "blue",
          health: "Healthy",
          deploy: null,
          lastDeploy: null,
          version,
        }) as unknown as ServiceStatus,
      history: () => [],
      onEvent: (l) => {
        engineListeners.add(l);
        return () => engineListeners.delete(l);
      },
    };
    const sample = (colour: Colour) => ({
      colour,
      at: 1,
      intervalMs: 1000,
      requests: 5,
      errors: 0,
      requestRate: 5,
      errorRate: 0,
      p50: 0.001,
      p95: 0.002,
      p99: 0.003,
      saturation: null,
      buckets: [{ le: 1, count: 5 }],
    });
    const ticks: TickFeed = {
      intervalMs: 1000,
      recent: () => [{ at: 1, samples: { blue: sample("blue"), green: sample("green") } }],
      onTick: (l) => {
        tickListeners.add(l);
        return () => tickListeners.delete(l);
      },
    };
    return {
      engine,
      ticks,
      engineListeners,
      tickListeners,
      emitDeploy: () => {
        for (const l of engineListeners) l({ type: "deploy", record });
      },
      tick: () => {
        for (const l of tickListeners)
          l({ at: 2, samples: { blue: sample("blue"), green: sample("green") } });
      },
      setVersion: (v: string) => {
        version = v;
      },
    };
  }

  async function serve(hub: LiveHub): Promise<string> {
    const server = createServer((req, res) => hub.attach(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => {
      hub.close();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async function reader(url: string) {
    const controller = new AbortController();
    closers.push(() => controller.abort());
    const response = await fetch(url, { signal: controller.signal });
    const lines: LiveMessage[] = [];
    void (async () => {
      let buffered = "";
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(chunk, { stream: true });
          const parts = buffered.split("\n");
          buffered = parts.pop() ?? "";
          for (const p of parts) if (p) lines.push(JSON.parse(p) as LiveMessage);
        }
      } catch {
        // aborted
      }
    })();
    return { lines, close: () => controller.abort() };
  }

  it("sends a snapshot, then changes once each; listens to nothing without a page", async () => {
    const f = fakes();
    const hub = new LiveHub({
      engine: f.engine,
      ticks: f.ticks,
      reports: null,
      addresses: { live: null, preview: null },
      logger: silentLogger(),
    });
    const url = await serve(hub);
    expect(f.engineListeners.size).toBe(0);
    const page = await reader(url);
    await eventually("hello", () => page.lines.length === 1);
    const hello = page.lines[0];
    expect(hello?.type).toBe("hello");
    if (hello?.type === "hello")
      expect(hello.ticks[0]?.colours.blue).toEqual({
        requests: 5,
        rate: 5,
        errorRate: 0,
        p50: 0.001,
        p99: 0.003,
      });
    expect([f.engineListeners.size, f.tickListeners.size]).toEqual([1, 1]);

    f.emitDeploy();
    f.tick(); // status unchanged: no status line
    f.setVersion("2.0.0");
    f.emitDeploy();
    f.emitDeploy(); // two events in one turn: one status line
    await eventually("lines", () => page.lines.length >= 6);
    await sleep(50); // and no seventh (a second status line for the same turn) follows
    expect(page.lines.map((l) => l.type)).toEqual(["hello", "deploy", "tick", "deploy", "deploy", "status"]);

    page.close();
    await eventually("unsubscribed", () => f.engineListeners.size === 0 && f.tickListeners.size === 0);
  });

  it("a listener that fails never throws into the engine", async () => {
    const f = fakes();
    let broken = false;
    const engine: DeployFeed = {
      ...f.engine,
      status: () => {
        if (broken) throw new Error("boom");
        return f.engine.status();
      },
    };
    const hub = new LiveHub({
      engine,
      ticks: f.ticks,
      reports: null,
      addresses: { live: null, preview: null },
      logger: silentLogger(),
    });
    const page = await reader(await serve(hub));
    await eventually("hello", () => page.lines.length === 1);
    broken = true;
    expect(() => f.tick()).not.toThrow();
    expect(() => f.emitDeploy()).not.toThrow();
    await eventually("the tick and the deploy", () => page.lines.length >= 3);
    await sleep(20); // the queued status runs, fails, and is logged: no status line follows
    expect(page.lines.map((l) => l.type)).toEqual(["hello", "tick", "deploy"]);
  });
});
