import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Colour } from "../../src/colour.js";
import type { HealthConfig, StartConfig } from "../../src/config/schema.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import { ReplicasNotReadyError } from "../../src/platforms/local/errors.js";
import { LocalPlatform } from "../../src/platforms/local/local-platform.js";
import { eventually, isAlive } from "../helpers/eventually.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const demoApp = join(repo, "dist/examples/demo-app/src/server.js");
const fixture = join(repo, "test/helpers/fixture-service.mjs");
const host = join(repo, "test/helpers/platform-host.ts");

const fastHealth: HealthConfig = {
  path: "/health",
  interval: 100,
  timeout: 500,
  successThreshold: 1,
  failureThreshold: 2,
  startupGrace: 5_000,
  restartAfterFailures: 0,
};

interface Setup {
  readonly command?: string;
  readonly env?: Record<string, string>;
  readonly stopGrace?: number;
  readonly health?: Partial<HealthConfig>;
}

const platforms: LocalPlatform[] = [];
const directories: string[] = [];

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "cutover-local-"));
  directories.push(directory);
  return directory;
}

async function makePlatform(setup: Setup = {}): Promise<{ platform: LocalPlatform; logDir: string }> {
  const logDir = join(await tempDir(), "logs");
  const start: StartConfig = {
    command: setup.command ?? `node ${demoApp}`,
    cwd: ".",
    env: setup.env ?? {},
    stopGrace: setup.stopGrace ?? 2_000,
  };
  const platform = new LocalPlatform({
    start,
    health: { ...fastHealth, ...setup.health },
    cwd: repo,
    logDir,
  });
  platforms.push(platform);
  return { platform, logDir };
}

function recordEndpoints(platform: LocalPlatform, colour: Colour): (readonly Endpoint[])[] {
  const seen: (readonly Endpoint[])[] = [];
  platform.onEndpoints((changed, endpoints) => {
    if (changed === colour) seen.push(endpoints);
  });
  return seen;
}

function pidsOf(platform: LocalPlatform, colour: Colour): number[] {
  return platform.status(colour).replicas.map((replica) => replica.pid ?? Number.NaN);
}

async function getJson(endpoint: Endpoint, path = "/"): Promise<Record<string, unknown>> {
  const response = await fetch(`http://${endpoint.host}:${endpoint.port}${path}`);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(() => {
  if (!existsSync(demoApp) || !existsSync(join(repo, "dist/src/process/replica-guard.js"))) {
    throw new Error(
      "dist/ is missing the demo app or the replica guard; run `npx tsc -p tsconfig.json` first",
    );
  }
});

afterEach(async () => {
  await Promise.all(platforms.splice(0).map((platform) => platform.close()));
  await Promise.all(
    directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
  );
});

describe("LocalPlatform", { timeout: 20_000 }, () => {
  it("starts replicas that answer with their version and colour, and reports them as endpoints", async () => {
    const { platform, logDir } = await makePlatform({ env: { GREETING_VERSION: "v{version}" } });
    const seen = recordEndpoints(platform, "green");
    await platform.start("green", "1.2.3", 2);
    await platform.waitReady("green", { timeoutMs: 5_000 });

    const endpoints = seen.at(-1) ?? [];
    expect(endpoints.map((endpoint) => endpoint.id).sort()).toEqual(["green-0", "green-1"]);
    for (const endpoint of endpoints) {
      const body = await getJson(endpoint);
      expect(body).toMatchObject({ version: "1.2.3", environment: "green", replica: endpoint.id.slice(-1) });
    }
    const status = platform.status("green");
    expect(status.version).toBe("1.2.3");
    expect(status.replicas.map((replica) => [replica.state, replica.restarts])).toEqual([
      ["ready", 0],
      ["ready", 0],
    ]);
    expect(status.replicas[0]?.logFile).toBe(join(logDir, "green-0.log"));
    expect(await readFile(join(logDir, "green-1.log"), "utf8")).toContain("demo-app listening");
    expect(platform.status("blue")).toEqual({ colour: "blue", version: null, replicas: [] });
  });

  it("fills {version} and {port} in the command and in start.env", async () => {
    const command = `node ${fixture} --version={version} --port={port}`;
    const { platform, logDir } = await makePlatform({
      command,
      env: { APP_VERSION_COPY: "{version}@{port}" },
    });
    await platform.start("blue", "9.9.9", 1);
    await platform.waitReady("blue", { timeoutMs: 5_000 });
    const port = platform.status("blue").replicas[0]?.port;
    const log = await readFile(join(logDir, "blue-0.log"), "utf8");
    expect(log).toContain(`--version=9.9.9 --port=${port}`);
  });

  it("rejects waitReady with the failing health check and the log path when health fails", async () => {
    const { platform, logDir } = await makePlatform({ env: { FAIL_HEALTH: "1" } });
    await platform.start("green", "2.0.0", 1);
    const waiting = platform.waitReady("green", { timeoutMs: 3_000 });

    await expect(waiting).rejects.toBeInstanceOf(ReplicasNotReadyError);
    const error = (await waiting.catch((caught: unknown) => caught)) as ReplicasNotReadyError;
    expect(error.message).toContain("green-0");
    expect(error.message).toContain("GET /health answered 503");
    expect(error.message).toContain("FAIL_HEALTH is set");
    expect(error.message).toContain(join(logDir, "green-0.log"));
    expect(error.message).toContain("demo-app listening");
    expect(error.exitCode).toBe(1);
    expect(platform.status("green").replicas[0]?.state).toBe("starting");
  });

  it("rejects waitReady at once when the signal aborts", async () => {
    const { platform } = await makePlatform({ env: { SLOW_START_S: "5" } });
    await platform.start("green", "2.0.0", 1);
    const controller = new AbortController();
    const waiting = platform.waitReady("green", { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
  });

  it("rejects waitReady for a colour that runs nothing", async () => {
    const { platform } = await makePlatform();
    await expect(platform.waitReady("blue", { timeoutMs: 1_000 })).rejects.toThrow(/blue runs no replicas/);
  });

  it("waits for a slow starter to become ready", async () => {
    const { platform } = await makePlatform({ env: { SLOW_START_S: "1" } });
    const began = Date.now();
    await platform.start("green", "3.0.0", 1);
    await sleep(400);
    expect(platform.status("green").replicas[0]?.state).toBe("starting");
    await platform.waitReady("green", { timeoutMs: 5_000 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(1_000);
    expect(platform.status("green").replicas[0]?.ready).toBe(true);
  });

  it("restarts a replica killed with SIGKILL, out of rotation until it is ready again", async () => {
    const { platform } = await makePlatform();
    const seen = recordEndpoints(platform, "green");
    await platform.start("green", "4.0.0", 2);
    await platform.waitReady("green", { timeoutMs: 5_000 });
    const [victim] = pidsOf(platform, "green");
    seen.length = 0;

    process.kill(victim ?? Number.NaN, "SIGKILL");
    await eventually("green-0 is restarted", () => platform.status("green").replicas[0]?.restarts === 1);
    await platform.waitReady("green", { timeoutMs: 5_000 });

    const replica = platform.status("green").replicas[0];
    expect(replica?.lastProblem).toBe("killed by SIGKILL");
    expect(replica?.pid).not.toBe(victim);
    expect(isAlive(victim ?? Number.NaN)).toBe(false);
    expect(seen.map((endpoints) => endpoints.map((endpoint) => endpoint.id).sort())).toEqual([
      ["green-1"],
      ["green-0", "green-1"],
    ]);
  });

  it("stops replicas with SIGTERM and leaves no process behind", async () => {
    const { platform, logDir } = await makePlatform();
    const seen = recordEndpoints(platform, "blue");
    await platform.start("blue", "5.0.0", 2);
    await platform.waitReady("blue", { timeoutMs: 5_000 });
    const pids = pidsOf(platform, "blue");

    await platform.stop("blue");
    expect(pids.filter(isAlive)).toEqual([]);
    expect(seen.at(-1)).toEqual([]);
    expect(platform.status("blue").replicas).toEqual([]);
    // The demo app exits 0 on SIGTERM once in-flight requests are done: it was not killed.
    expect(await readFile(join(logDir, "blue-0.log"), "utf8")).toContain("stopped: exited with code 0");
  });

  it("stops the replicas of a colour before starting a new version on it", async () => {
    const { platform } = await makePlatform();
    await platform.start("green", "6.0.0", 1);
    await platform.waitReady("green", { timeoutMs: 5_000 });
    const old = pidsOf(platform, "green");
    await platform.start("green", "6.0.1", 1);
    expect(old.filter(isAlive)).toEqual([]);
    await platform.waitReady("green", { timeoutMs: 5_000 });
    expect(platform.status("green").version).toBe("6.0.1");
  });

  it("kills a service that ignores SIGTERM, with everything in its group, after stopGrace", async () => {
    const command = `trap "" TERM; node ${fixture}`;
    const { platform, logDir } = await makePlatform({
      command,
      env: { IGNORE_SIGTERM: "1" },
      stopGrace: 500,
    });
    await platform.start("green", "7.0.0", 1);
    await platform.waitReady("green", { timeoutMs: 5_000 });
    const [endpoint] = platform.status("green").replicas;
    const { pid: nodePid } = await getJson({ id: "x", host: "127.0.0.1", port: endpoint?.port ?? 0 });
    const shellPid = endpoint?.pid ?? Number.NaN;

    const began = Date.now();
    await platform.stop("green");
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect([shellPid, Number(nodePid)].filter(isAlive)).toEqual([]);
    expect(await readFile(join(logDir, "green-0.log"), "utf8")).toContain("ignoring SIGTERM");
  });

  it("leaves no orphan when the supervising process is killed with SIGKILL", async () => {
    const logDir = join(await tempDir(), "logs");
    const args = JSON.stringify({ command: `node ${demoApp}`, logDir, replicas: 2 });
    const child = spawn(process.execPath, ["--import", "tsx", host, args], {
      cwd: repo,
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [line] = await once(createInterface({ input: child.stdout }), "line");
      const { pids } = JSON.parse(String(line)) as { pids: number[] };
      expect(pids.filter(isAlive)).toHaveLength(2);

      child.kill("SIGKILL");
      await eventually(
        "every replica of the killed supervisor is gone",
        () => pids.filter(isAlive).length === 0,
      );
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("takes a replica out of rotation when its checks fail, and restarts it after restartAfterFailures", async () => {
    const failFile = join(await tempDir(), "fail-health");
    const health = { failureThreshold: 2, restartAfterFailures: 5 };
    const { platform } = await makePlatform({
      command: `node ${fixture}`,
      env: { HEALTH_FAIL_FILE: failFile },
      health,
    });
    await platform.start("green", "8.0.0", 1);
    await platform.waitReady("green", { timeoutMs: 5_000 });

    await writeFile(failFile, "");
    await eventually(
      "green-0 leaves rotation",
      () => platform.status("green").replicas[0]?.state === "unready",
    );
    expect(platform.status("green").replicas[0]?.restarts).toBe(0);
    await eventually("green-0 is restarted", () => platform.status("green").replicas[0]?.restarts === 1);
    expect(platform.status("green").replicas[0]?.lastProblem).toMatch(
      /5 health checks failed in a row .*503/,
    );

    await rm(failFile);
    await platform.waitReady("green", { timeoutMs: 5_000 });
  });

  it("restarts a replica that passes no check within startupGrace", async () => {
    const { platform } = await makePlatform({ env: { FAIL_HEALTH: "1" }, health: { startupGrace: 600 } });
    await platform.start("green", "9.0.0", 1);
    await eventually(
      "green-0 is restarted",
      () => (platform.status("green").replicas[0]?.restarts ?? 0) >= 1,
    );
    // On a busy machine the replica may not even listen within 600 ms: the last check then was refused.
    expect(platform.status("green").replicas[0]?.lastProblem).toMatch(
      /no health check passed within 600ms of start \(last: GET \/health (answered 503|failed: connect ECONNREFUSED)/,
    );
  });
});
