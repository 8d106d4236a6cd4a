/**
 * A user's first hour, as the README's Install section tells it: `npm pack` cutover, install the tarball
 * into a fresh project (`npm install --save-dev ./cutover-<version>.tgz`), then `npx cutover init`, `up`,
 * `deploy <version>`, `status --json` and `down` there, against a tiny service. Everything runs from the
 * installed copy, so a file the CLI needs at run time but `files` in package.json leaves out fails here.
 *
 * `npm pack --ignore-scripts` packs the dist/ that `npm test` (or `npm run build`) has just built. The
 * install takes its dependencies from the npm cache when it can (`--prefer-offline`), else the registry.
 * `npx --no` is `npx` that never fetches a package: cutover must come from the local install.
 * Every step waits for its command to exit; nothing sleeps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { type DaemonInfo, isProcessAlive } from "../../src/daemon/state-files.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { freePort, ROOT } from "../helpers/project.js";

const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the child processes get: this environment without what npm scripts and tests set for themselves. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1" };
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^npm_/i.test(key) ||
      key.startsWith("CUTOVER_") ||
      key.startsWith("VITEST") ||
      key === "NODE_OPTIONS"
    )
      continue;
    env[key] = value;
  }
  return env;
}

const running = new Set<ChildProcess>();

/** Runs a command to its exit (no timers: the test's timeout is the only limit). */
function run(cwd: string, command: string, ...args: string[]): Promise<Result> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      running.delete(child);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `npx cutover ...`; `--` keeps npx's own flags apart (bare `npx cutover --version` prints npm's version). */
const cutover = (cwd: string, ...args: string[]) => run(cwd, NPX, "--no", "--", "cutover", ...args);

function expectOk(result: Result, what: string): void {
  if (result.code !== 0)
    throw new Error(
      `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
}

const temp = mkdtempSync(join(tmpdir(), "cutover-install-"));
const app = join(temp, "app");
let daemonUp = false;

afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  if (daemonUp && existsSync(join(app, "node_modules/.bin/cutover"))) {
    await cutover(app, "down");
    const info = join(app, ".cutover/daemon.json");
    if (existsSync(info)) {
      const { pid } = JSON.parse(readFileSync(info, "utf8")) as DaemonInfo;
      if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }
  // ~160 MB of node_modules: seconds on a quiet machine, up to a minute on a busy disk.
  rmSync(temp, { recursive: true, force: true });
}, 120_000);

describe("npm pack, then install into another project", () => {
  it("installs from the tarball; npx cutover init, up, deploy, status --json and down work there", {
    timeout: 180_000,
  }, async () => {
    const packDir = join(temp, "pack");
    mkdirSync(packDir);
    const pack = await run(ROOT, NPM, "pack", "--ignore-scripts", "--json", "--pack-destination", packDir);
    expectOk(pack, "npm pack");
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    if (!packed) throw new Error(`npm pack printed no package: ${pack.stdout}`);
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("dist/src/cli/main.js");
    expect(paths).toContain("dist/src/dashboard/web/app.js");
    expect(paths).toContain("dist/src/process/replica-guard.js");
    expect(paths.filter((p) => /^dist\/(test|bench|scripts|examples)\//.test(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith(".tsbuildinfo") || p.startsWith("src/"))).toEqual([]);

    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      `${JSON.stringify({ name: "cutover-install-check", version: "1.0.0", private: true }, null, 2)}\n`,
    );
    const tarball = join(packDir, packed.filename);
    const install = await run(
      app,
      NPM,
      "install",
      "--save-dev",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tarball,
    );
    expectOk(install, "npm install");
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    expect(manifest.devDependencies[PACKAGE.name]).toMatch(/^file:.*\.tgz$/);

    const version = await cutover(app, "--version");
    expectOk(version, "cutover --version");
    expect(version.stdout.trim()).toBe(PACKAGE.version);

    expectOk(await cutover(app, "init"), "cutover init");
    // The service: the tests' fixture, which answers /health and reports APP_VERSION on /.
    copyFileSync(join(ROOT, "test/helpers/fixture-service.mjs"), join(app, "service.mjs"));
    const [listen, preview, admin] = [await freePort(), await freePort(), await freePort()];
    const configPath = join(app, "cutover.yaml");
    const doc = parseDocument(readFileSync(configPath, "utf8"));
    const set = (path: string[], value: unknown) => doc.setIn(path, value);
    set(["replicas"], 1);
    set(["start", "command"], "node service.mjs {version}");
    set(["start", "stopGrace"], "3s");
    set(["health", "interval"], "100ms");
    set(["health", "timeout"], "500ms");
    set(["health", "startupGrace"], "10s");
    set(["router", "listen"], `127.0.0.1:${listen}`);
    set(["router", "preview"], `127.0.0.1:${preview}`);
    set(["router", "admin"], `127.0.0.1:${admin}`);
    set(["router", "drainTimeout"], "1s");
    set(["deploy", "readyTimeout"], "20s");
    set(["deploy", "scaleDownDelay"], "1s");
    writeFileSync(configPath, doc.toString());

    daemonUp = true;
    expectOk(await cutover(app, "up"), "cutover up");
    const before = await fetch(`http://127.0.0.1:${listen}/`);
    expect(((await before.json()) as { version: string }).version).toBe("1.0.0");

    expectOk(await cutover(app, "deploy", "2.0.0"), "cutover deploy 2.0.0");

    const statusRun = await cutover(app, "status", "--json");
    expectOk(statusRun, "cutover status --json");
    const status = JSON.parse(statusRun.stdout) as ServiceStatus;
    expect(status.health).toBe("Healthy");
    expect(status.colours[status.active].version).toBe("2.0.0");
    expect(status.lastDeploy?.version).toBe("2.0.0");
    const live = await fetch(`http://127.0.0.1:${listen}/`);
    expect(((await live.json()) as { version: string }).version).toBe("2.0.0");

    const pid = (JSON.parse(readFileSync(join(app, ".cutover/daemon.json"), "utf8")) as DaemonInfo).pid;
    const replicas = Object.values(status.colours).flatMap((c) => c.replicas.map((r) => r.pid));
    expect(replicas.length).toBeGreaterThan(0);
    expectOk(await cutover(app, "down"), "cutover down");
    daemonUp = false;
    // A zombie (exited, not reaped: a container's init may never reap it) counts as gone.
    const alive = [pid, ...replicas]
      .filter((p): p is number => p !== null && isProcessAlive(p))
      .map((p) => `${p === pid ? "the daemon" : "a replica"} (pid ${p}) still runs`);
    expect(alive, alive.join("; ")).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${listen}/`)).rejects.toThrow();
  });
});
