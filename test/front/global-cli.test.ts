/**
 * `cutover global` as a user runs it: a process of its own (the CLI from src/ through tsx), answering through
 * the front from the config's regions, drained over its admin API with the token it wrote, stopped by SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REGION_HEADER } from "../../src/front/front-response-headers.js";
import { eventually } from "../helpers/eventually.js";
import { freePort, ROOT } from "../helpers/project.js";
import { type RegionStandIn, startRegion } from "./front-fixtures.js";

const TOKEN_ENV = { REGION_TOKEN: "r".repeat(32) };

const children: ChildProcess[] = [];
const regions: RegionStandIn[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(regions.splice(0).map((r) => r.kill()));
});

/** A cutover.yaml of a fleet of two regions behind the built-in front (or without `globalFront:`). */
function writeConfig(eu: RegionStandIn, us: RegionStandIn, front: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-global-"));
  const region = (name: string, endpoint: string, adminPort: number) =>
    `  - name: ${name}\n    admin: { url: "http://127.0.0.1:${adminPort}", token: "\${REGION_TOKEN}" }\n    endpoint: ${endpoint}\n`;
  const file = join(dir, "cutover.yaml");
  writeFileSync(
    file,
    `service: shop\nversion: 1.0.0\nregions:\n${region("eu", eu.url, 9)}${region("us", us.url, 10)}${front}`,
  );
  return file;
}

/** Runs the CLI from src/ (tsx), as `cutover --config <file> global`; `output` grows as it prints. */
function runGlobal(config: string): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "--config", config, "global"],
    {
      cwd: ROOT,
      env: { ...process.env, ...TOKEN_ENV, NO_COLOR: "1", CUTOVER_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe("cutover global", () => {
  it("runs the front for the config, answers through it, takes a drain, and stops on SIGTERM", async () => {
    const [eu, us] = [await startRegion("eu"), await startRegion("us")];
    regions.push(eu, us);
    const [listen, admin] = [await freePort(), await freePort()];
    const config = writeConfig(
      eu,
      us,
      `globalFront:\n  type: builtin\n  listen: 127.0.0.1:${listen}\n  admin: 127.0.0.1:${admin}\n  probe: { interval: 100ms, timeout: 300ms }\n`,
    );
    const run = runGlobal(config);
    await eventually(
      "the front says where it listens",
      () => run.output().includes("Global front of shop"),
      15_000,
    );
    expect(run.output()).toContain(
      `users at http://127.0.0.1:${listen}, admin API at http://127.0.0.1:${admin}`,
    );
    const front = `http://127.0.0.1:${listen}`;
    await eventually("a request through the front reaches eu", async () => {
      const response = await fetch(front);
      return response.status === 200 && (await response.text()) === "eu";
    });

    const token = readFileSync(join(config, "..", ".cutover", "global-front", "token"), "utf8").trim();
    const drained = await fetch(`http://127.0.0.1:${admin}/regions/eu/drain`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(drained.status).toBe(200);
    expect((await fetch(front)).headers.get(REGION_HEADER)).toBe("us");

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    await expect(fetch(front)).rejects.toThrow();
  });

  it("exits 2 with what to add when the config has no globalFront", async () => {
    const [eu, us] = [await startRegion("eu"), await startRegion("us")];
    regions.push(eu, us);
    const run = runGlobal(writeConfig(eu, us, ""));
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/has no globalFront: section; add globalFront: \{ type: builtin/);
  });
});
