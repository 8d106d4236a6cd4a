/**
 * Runs a LocalPlatform in a process of its own, for the test that kills this process with SIGKILL.
 *   node --import tsx test/helpers/platform-host.ts '{"command": "...", "logDir": "...", "replicas": 2}'
 * Prints one JSON line { "pids": [...] } once every replica is ready, then waits to be killed.
 */
import { LocalPlatform } from "../../src/platforms/local/local-platform.js";

interface HostArguments {
  readonly command: string;
  readonly logDir: string;
  readonly replicas: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as HostArguments;
const platform = new LocalPlatform({
  start: { command: args.command, cwd: ".", env: {}, stopGrace: 1_000 },
  health: {
    path: "/health",
    interval: 100,
    timeout: 500,
    successThreshold: 1,
    failureThreshold: 2,
    startupGrace: 5_000,
    restartAfterFailures: 0,
  },
  cwd: process.cwd(),
  logDir: args.logDir,
});
await platform.start("green", "host", args.replicas);
await platform.waitReady("green", { timeoutMs: 10_000 });
const pids = platform.status("green").replicas.map((replica) => replica.pid);
console.log(JSON.stringify({ pids }));
setInterval(() => {}, 60_000);
