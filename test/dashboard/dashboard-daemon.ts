/**
 * A cutover daemon that serves the dashboard, for tests: the real Daemon (router, local platform, engine)
 * with its admin server swapped for one that carries the dashboard's routes and files, and a sampler
 * over the router's metrics — the wiring daemon.ts is to do itself. The CLI finds it through
 * .cutover/daemon.json, as always.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { loadConfig } from "../../src/config/load.js";
import { AdminServer } from "../../src/daemon/admin-server.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { readOrCreateToken } from "../../src/daemon/state-files.js";
import { Dashboard } from "../../src/dashboard/dashboard.js";
import { silentLogger } from "../../src/log.js";
import { type CliResult, type Project, ROOT, runCli } from "../helpers/project.js";

export const WEB_DIR = join(ROOT, "dist/src/dashboard/web");

export interface DashboardDaemon {
  readonly daemon: Daemon;
  readonly dashboard: Dashboard;
  readonly sampler: ColourSampler;
  readonly adminUrl: string;
  readonly token: string;
  readonly stateDir: string;
  stop(): Promise<void>;
}

export async function startDashboardDaemon(project: Project, intervalMs = 500): Promise<DashboardDaemon> {
  const loaded = loadConfig(project.config);
  const logger = silentLogger();
  const daemon = await Daemon.start({ loaded, logger });
  const sampler = new ColourSampler({ source: new RouterMetricSource(daemon.router), intervalMs, logger });
  sampler.start();
  const { listen, preview, admin: address } = loaded.config.router;
  const dashboard = new Dashboard({
    engine: daemon.engine,
    ticks: sampler,
    reportsDir: join(loaded.stateDir, "reports"),
    addresses: {
      live: `http://${listen.host}:${listen.port}`,
      preview: preview ? `http://${preview.host}:${preview.port}` : null,
    },
    logger,
    webDir: WEB_DIR,
  });
  const token = readOrCreateToken(loaded.stateDir);
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      sampler.stop();
      dashboard.close();
      await daemon.stop();
      await admin.close();
    })();
    return stopping;
  };
  await daemon.admin.close();
  const admin = new AdminServer({
    address,
    token,
    engine: daemon.engine,
    metrics: async () => ({
      contentType: daemon.router.metricsContentType,
      text: await daemon.router.metrics(),
    }),
    onShutdown: () => void stop(),
    routes: dashboard.routes,
    publicFiles: dashboard.files,
    logger,
  });
  await admin.start();
  return {
    daemon,
    dashboard,
    sampler,
    adminUrl: `http://${address.host}:${address.port}`,
    token,
    stateDir: loaded.stateDir,
    stop,
  };
}

const MAIN_HAS_DASHBOARD = readFileSync(join(ROOT, "src/cli/main.ts"), "utf8").includes(
  "registerDashboardCommand",
);

/** `cutover <args>`: through the built CLI once main.ts registers the command, else through dashboard-command.ts. */
export function runDashboardCli(project: Pick<Project, "config">, ...args: string[]): Promise<CliResult> {
  if (MAIN_HAS_DASHBOARD) return runCli(project, ...args);
  return new Promise((resolveRun) => {
    const script = join(ROOT, "test/dashboard/dashboard-command.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, "--config", project.config, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}
