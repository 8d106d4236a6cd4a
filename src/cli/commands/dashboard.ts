import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import { isProcessAlive, readDaemonInfo, readToken } from "../../daemon/state-files.js";
import { DASHBOARD_PREFIX } from "../../dashboard/dashboard-files.js";
import { dashboardUrl } from "../../dashboard/dashboard-url.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { CutoverError, DaemonNotRunningError } from "../../errors.js";
import { AdminClient } from "../../control/admin-client.js";
import type { Output } from "../output.js";

export interface DashboardCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

interface DashboardOptions {
  open?: boolean;
  admin?: string;
  tokenFile?: string;
}

/**
 * `cutover dashboard`: the address of the web dashboard of the daemon that runs the engine for this
 * config, whatever its platform, with the token in the URL fragment; --open opens it. With --admin it
 * points at a daemon's admin address reached some other way (e.g. `kubectl port-forward`).
 */
export function registerDashboardCommand(program: Command, context: DashboardCommandContext): void {
  program
    .command("dashboard")
    .description("print the web dashboard's address (token in the #fragment); --open opens it")
    .option("--open", "open it in the default browser")
    .option(
      "--admin <url>",
      "the admin address of a daemon reached another way (token: CUTOVER_TOKEN or --token-file)",
    )
    .option("--token-file <file>", "read the token from this file (with --admin)")
    .action(async (options: DashboardOptions) => {
      const { base, token } = options.admin ? elsewhere(options) : local(context.config());
      const status = await new AdminClient(base, token).get<ServiceStatus>("/status");
      await requireDashboard(base);
      const url = dashboardUrl(base, token);
      const opened = options.open ? await openInBrowser(url) : null;
      context
        .output()
        .result({ url, service: status.service, active: status.active, opened }, () =>
          [
            `Dashboard of ${status.service} (live: ${status.active}):`,
            `  ${url}`,
            "The token is after the #: the browser keeps it in this tab and never sends it in the address. Share the link with no one.",
            ...(opened === null
              ? []
              : [
                  opened ? "Opened in your browser." : "Could not open a browser; open the address yourself.",
                ]),
          ].join("\n"),
        );
    });
}

/** The daemon for this config, found as the other commands find it. */
function local(loaded: LoadedConfig): { base: string; token: string } {
  const info = readDaemonInfo(loaded.stateDir);
  const token = readToken(loaded.stateDir);
  if (!info || !isProcessAlive(info.pid))
    throw new DaemonNotRunningError(`no running daemon for ${loaded.stateDir}`);
  if (!token) throw new DaemonNotRunningError(`no token in ${loaded.stateDir}`);
  return { base: info.admin, token };
}

function elsewhere(options: DashboardOptions): { base: string; token: string } {
  const base = (options.admin ?? "").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+$/.test(base)) {
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--admin expects an address such as http://127.0.0.1:8079, got "${options.admin}"`,
    );
  }
  const token = options.tokenFile
    ? readFileSync(options.tokenFile, "utf8").trim()
    : (process.env.CUTOVER_TOKEN ?? "").trim();
  if (!token) {
    throw new CutoverError(
      "NO_TOKEN",
      "--admin needs the daemon's token: set CUTOVER_TOKEN or pass --token-file <file>",
    );
  }
  return { base, token };
}

/** An older daemon answers the page with 401 or 404: say so instead of printing a dead link. */
async function requireDashboard(base: string): Promise<void> {
  const response = await fetch(`${base}${DASHBOARD_PREFIX}`).catch(() => null);
  await response?.body?.cancel();
  if (response?.status !== 200) {
    throw new CutoverError(
      "NO_DASHBOARD",
      `the daemon at ${base} does not serve the dashboard (it answered ${response?.status ?? "nothing"}); restart it with \`cutover down && cutover up\``,
    );
  }
}

/** Starts the platform's opener; resolves whether it could be started. */
function openInBrowser(url: string): Promise<boolean> {
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  return new Promise((resolve) => {
    const child = spawn(command, args as string[], { detached: true, stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
