import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import { AdminClient } from "../../control/admin-client.js";
import { isProcessAlive, readDaemonInfo, readToken } from "../../daemon/state-files.js";
import { DASHBOARD_PREFIX } from "../../dashboard/dashboard-files.js";
import { dashboardUrl } from "../../dashboard/dashboard-url.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { CutoverError, DaemonNotRunningError } from "../../errors.js";
import { containsSecret } from "../../secrets.js";
import type { Output } from "../output.js";

export interface DashboardCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

interface DashboardOptions {
  open?: boolean;
  admin?: string;
  tokenFile?: string;
  listen?: string;
}

/** Where a daemon's dashboard is, and the token it wants. */
interface DaemonAdmin {
  readonly base: string;
  readonly token: string;
  /** For a region's admin API over https with a CA of its own: the CA (PEM). */
  readonly ca?: string;
}

/**
 * `cutover dashboard`: the address of the web dashboard of the daemon that runs the engine for this
 * config, whatever its platform, with the token in the URL fragment; --open opens it. With --admin it
 * points at a daemon's admin address reached some other way (e.g. `kubectl port-forward`). On a fleet
 * (cutover.yaml with regions:) it serves the fleet dashboard from this process until Ctrl-C; with the
 * global --region NAME it gives that region's daemon's dashboard instead.
 */
export function registerDashboardCommand(program: Command, context: DashboardCommandContext): void {
  program
    .command("dashboard")
    .description(
      "print the web dashboard's address (token in the #fragment); on a fleet, serve the fleet dashboard until Ctrl-C",
    )
    .option("--open", "open it in the default browser")
    .option(
      "--admin <url>",
      "the admin address of a daemon reached another way (token: CUTOVER_TOKEN or --token-file)",
    )
    .option("--token-file <file>", "read the token from this file (with --admin)")
    .option(
      "--listen <host:port>",
      "on a fleet: where the fleet dashboard listens, on loopback only (default: 127.0.0.1, a free port)",
    )
    .action(async (options: DashboardOptions, command: Command) => {
      const region = command.optsWithGlobals<{ region?: string }>().region;
      const loaded = options.admin ? null : context.config();
      if (loaded?.config.regions && region === undefined) {
        const { fleetDashboardCommand } = await import("./fleet-dashboard.js");
        process.exitCode = await fleetDashboardCommand(loaded, context.output(), {
          ...(options.listen === undefined ? {} : { listen: options.listen }),
          ...(options.open ? { open: openInBrowser } : {}),
        });
        return;
      }
      if (options.listen !== undefined)
        throw new CutoverError(
          "BAD_ARGUMENT",
          "--listen is for the fleet dashboard (cutover.yaml with regions:, no --region); a service's dashboard is served by its daemon on its router.admin address",
        );
      const admin =
        loaded === null ? elsewhere(options) : region ? await regionAdmin(loaded, region) : local(loaded);
      await printDashboard(admin, options, context.output());
    });
}

async function printDashboard(admin: DaemonAdmin, options: DashboardOptions, out: Output): Promise<void> {
  const { base, token } = admin;
  const client = new AdminClient(base, token, { ca: admin.ca });
  const status = await client.get<ServiceStatus>("/status");
  await requireDashboard(client);
  const url = dashboardUrl(base, token);
  const opened = options.open ? await openInBrowser(url) : null;
  out.result({ url, service: status.service, active: status.active, opened }, () =>
    [
      `Dashboard of ${status.service} (live: ${status.active}):`,
      `  ${url}`,
      "The token is after the #: the browser keeps it in this tab and never sends it in the address. Share the link with no one.",
      ...(containsSecret(token)
        ? [
            "The token comes from the environment, so the link shows the variable's name, not its value: paste the value in the page's token form.",
          ]
        : []),
      ...(opened === null
        ? []
        : [opened ? "Opened in your browser." : "Could not open a browser; open the address yourself."]),
    ].join("\n"),
  );
}

/** `--region NAME` on a fleet: the region's daemon, at the admin address and with the token of regions[]. */
async function regionAdmin(loaded: LoadedConfig, name: string): Promise<DaemonAdmin> {
  const regions = loaded.config.regions ?? [];
  const region = regions.find((r) => r.name === name);
  if (!region)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--region ${name}: no such region in ${loaded.file}${regions.length > 0 ? ` (regions are ${regions.map((r) => r.name).join(", ")})` : " (it has no regions:)"}`,
    );
  if (!region.admin)
    throw new CutoverError(
      "NO_DASHBOARD",
      `region ${name} is a Kubernetes cluster: its engine runs in the CLI, and no daemon serves a dashboard for it; see it with \`cutover status --region ${name}\` or in the fleet dashboard (\`cutover dashboard\` without --region)`,
    );
  const base = region.admin.url.replace(/\/+$/, "");
  if (!region.admin.ca) return { base, token: region.admin.token };
  const path = resolve(loaded.dir, region.admin.ca);
  let ca: string;
  try {
    ca = readFileSync(path, "utf8");
  } catch (error) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `regions (${name}): admin.ca ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); give the PEM file of the CA that signed the region's certificate`,
    );
  }
  return { base, token: region.admin.token, ca };
}

/** The daemon for this config, found as the other commands find it. */
function local(loaded: LoadedConfig): DaemonAdmin {
  const info = readDaemonInfo(loaded.stateDir);
  const token = readToken(loaded.stateDir);
  if (!info || !isProcessAlive(info.pid))
    throw new DaemonNotRunningError(`no running daemon for ${loaded.stateDir}`);
  if (!token) throw new DaemonNotRunningError(`no token in ${loaded.stateDir}`);
  return { base: info.admin, token };
}

function elsewhere(options: DashboardOptions): DaemonAdmin {
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
async function requireDashboard(client: AdminClient): Promise<void> {
  const status = await client.pageStatus(DASHBOARD_PREFIX);
  if (status !== 200) {
    throw new CutoverError(
      "NO_DASHBOARD",
      `the daemon at ${client.base} does not serve the dashboard (it answered ${status ?? "nothing"}); restart it with \`cutover down && cutover up\``,
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
