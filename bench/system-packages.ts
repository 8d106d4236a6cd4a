import { execFileSync, spawnSync } from "node:child_process";
import { whichExecutable } from "../src/router/haproxy/haproxy-binary.js";

/** A program the bench needs and the Debian package it comes in. */
export interface SystemProgram {
  readonly binary: string;
  readonly debianPackage: string;
  /** The service the package's install scripts may start; stopped at once if they did. */
  readonly service?: string;
}

export const BENCH_PROGRAMS: readonly SystemProgram[] = [
  { binary: "nginx", debianPackage: "nginx", service: "nginx" },
  { binary: "haproxy", debianPackage: "haproxy", service: "haproxy" },
  { binary: "wrk", debianPackage: "wrk" },
];

/**
 * Installs the programs that are missing from Debian's packages (apt-get update once, then one install),
 * without leaving the services those packages ship running. Returns each binary's path.
 */
export function ensurePrograms(programs: readonly SystemProgram[]): Record<string, string> {
  const missing = programs.filter((program) => whichExecutable(program.binary) === null);
  if (missing.length > 0) install(missing);
  const paths: Record<string, string> = {};
  for (const program of programs) {
    const path = whichExecutable(program.binary);
    if (path === null)
      throw new Error(`${program.binary} is still missing after apt-get install ${program.debianPackage}`);
    paths[program.binary] = path;
  }
  return paths;
}

function install(missing: readonly SystemProgram[]): void {
  const packages = missing.map((program) => program.debianPackage);
  if (whichExecutable("apt-get") === null || process.getuid?.() !== 0) {
    throw new Error(
      `the bench needs ${packages.join(", ")}: install them (Debian/Ubuntu: sudo apt-get install -y ${packages.join(" ")}) and run it again`,
    );
  }
  console.error(`installing ${packages.join(", ")} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", RUNLEVEL: "1" };
  execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  for (const program of missing) if (program.service) stopService(program.service);
}

/** Where systemd runs, a fresh package may have started its service on port 80: stop and disable it. */
function stopService(service: string): void {
  if (whichExecutable("systemctl") === null) return;
  const active = spawnSync("systemctl", ["is-active", "--quiet", service]).status === 0;
  if (!active) return;
  spawnSync("systemctl", ["disable", "--now", service], { stdio: "ignore" });
  console.error(`stopped the ${service} service its package started`);
}
