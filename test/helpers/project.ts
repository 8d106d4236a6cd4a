/**
 * A throwaway service project for tests: a folder with cutover.yaml on free loopback ports and one release
 * folder per version (releases/<version>/start.sh running the demo app), as a build pipeline would leave them.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort as freeLoopbackPort } from "../../src/process/free-port.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/src/cli/main.js");
export const DEMO_APP = join(ROOT, "dist/examples/demo-app/src/server.js");

/**
 * A free loopback port for a project's listeners, from below the kernel's ephemeral range (32768-60999 here):
 * replicas and clients get their ports from that range, so they never take one of these between the moment
 * it is picked and the moment the daemon binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  return freeLoopbackPort("127.0.0.1");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface Project {
  readonly dir: string;
  readonly config: string;
  readonly listen: number;
  readonly preview: number;
  readonly admin: number;
  /** Adds releases/<version>/start.sh; `env` lines are exported before the demo app starts. */
  release(version: string, env?: Record<string, string>): void;
}

export interface ProjectOptions {
  readonly replicas?: number;
  /** Extra YAML appended under `deploy:` (indented by the caller with two spaces). */
  readonly deploy?: string;
  readonly drainTimeout?: string;
  readonly readyTimeout?: string;
  /** More lines under `router:` (indented by the caller with two spaces). */
  readonly router?: string;
  /** More top-level YAML appended at the end (e.g. an `analysis:` section). */
  readonly extra?: string;
}

export async function makeProject(options: ProjectOptions = {}): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-test-"));
  const [listen, preview, admin] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, "cutover.yaml");
  writeFileSync(
    config,
    `service: testsvc
version: 1.0.0
replicas: ${options.replicas ?? 1}
start:
  command: "sh releases/{version}/start.sh"
  stopGrace: 3s
health:
  interval: 100ms
  timeout: 500ms
  startupGrace: 10s
router:
  listen: 127.0.0.1:${listen}
  preview: 127.0.0.1:${preview}
  admin: 127.0.0.1:${admin}
  drainTimeout: ${options.drainTimeout ?? "1s"}
${options.router ?? ""}
deploy:
  readyTimeout: ${options.readyTimeout ?? "10s"}
  scaleDownDelay: 1s
${options.deploy ?? ""}
${options.extra ?? ""}
`,
  );
  const project: Project = {
    dir,
    config,
    listen,
    preview,
    admin,
    release(version, env = {}) {
      const folder = join(dir, "releases", version);
      mkdirSync(folder, { recursive: true });
      const exports = Object.entries(env)
        .map(([k, v]) => `export ${k}='${v}'\n`)
        .join("");
      writeFileSync(join(folder, "start.sh"), `#!/bin/sh\n${exports}exec node "${DEMO_APP}"\n`);
      chmodSync(join(folder, "start.sh"), 0o755);
    },
  };
  project.release("1.0.0");
  return project;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built cutover CLI as a user would, with the project's config. */
export function runCli(project: Pick<Project, "config">, ...args: string[]): Promise<CliResult> {
  return runCliOf(CLI, project, ...args);
}

/** Runs the CLI of another build (its dist/src/cli/main.js), with the project's config. */
export function runCliOf(
  main: string,
  project: Pick<Project, "config">,
  ...args: string[]
): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [main, "--config", project.config, ...args], {
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

export async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}
