import type { LoadedConfig } from "../config/load.js";

export interface SystemdUnitOptions {
  /** The node binary and cutover's main.js, as this process runs them. */
  readonly node: string;
  readonly main: string;
  /** The account the daemon runs as; null: systemd's default (root). */
  readonly user: string | null;
}

/**
 * A systemd unit that runs the daemon of cutover.yaml's service and restarts it whenever it exits. systemd
 * signals the daemon only (KillMode=process): the data plane process, which holds the router and the
 * replicas, serves on through a restart, and the new daemon takes it over.
 */
export function renderSystemdUnit(loaded: LoadedConfig, options: SystemdUnitOptions): string {
  const { config, file, dir } = loaded;
  const quote = (value: string) => (/[\s"'\\$%]/.test(value) ? JSON.stringify(value) : value);
  return [
    `# cutover-${config.service}.service: written by \`cutover render systemd\` from ${file}.`,
    "# Install: sudo cp this file /etc/systemd/system/ && sudo systemctl daemon-reload",
    `#          && sudo systemctl enable --now cutover-${config.service}`,
    "[Unit]",
    `Description=cutover daemon of ${config.service} (blue-green deploys)`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    ...(options.user ? [`User=${options.user}`] : []),
    `WorkingDirectory=${quote(dir)}`,
    `ExecStart=${quote(options.node)} ${quote(options.main)} daemon --config ${quote(file)}`,
    `# Values cutover.yaml reads from the environment (\${VAR}) go here, or in an EnvironmentFile=.`,
    "# Environment=DATABASE_URL=postgres://...",
    "# The router and the replicas run in cutover's data plane process, which serves on while the daemon",
    "# restarts or is upgraded: systemd signals the daemon alone (SIGTERM: it leaves, the data plane stays).",
    "# `systemctl stop` stops the daemon only; `cutover down` stops the service, replicas and router included.",
    "KillMode=process",
    "KillSignal=SIGTERM",
    "Restart=always",
    "RestartSec=1",
    // A deploy in progress is aborted before the daemon leaves: its switch back and drain take their time.
    `TimeoutStopSec=${Math.ceil(config.router.drainTimeout / 1000) + 60}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
