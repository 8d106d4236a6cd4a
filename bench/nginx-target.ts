import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { Colour } from "../src/colour.js";
import { freePort } from "../src/process/free-port.js";
import type { BenchProcesses } from "./bench-processes.js";
import type { WorkersTarget } from "./bench-results.js";
import type { BenchTarget } from "./bench-target.js";
import type { DemoUpstream } from "./demo-upstreams.js";
import { processTree } from "./proc-usage.js";

const run = promisify(execFile);

interface NginxSettings {
  readonly dir: string;
  readonly port: number;
  readonly upstreams: Readonly<Record<Colour, DemoUpstream>>;
  readonly active: Colour;
  /** HTTPS with this certificate (TLS 1.2 and 1.3, the router's suites); null: plain HTTP. */
  readonly tls?: BenchCertificate | null;
  /** worker_processes; default 1. */
  readonly workers?: number;
}

/** The certificate both HTTPS targets serve. */
export interface BenchCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * nginx with settings equivalent to cutover's router: one worker (or `workers`), keep-alive to the
 * upstream (a pool per colour), no request limit per connection, streaming (no response buffering),
 * X-Forwarded-For and the colour header added. Switching means rewriting proxy_pass and `nginx -s reload`, as nginx users do.
 */
export function renderNginxConfig(s: NginxSettings): string {
  const pool = (colour: Colour) =>
    [
      `  upstream ${colour} {`,
      `    server 127.0.0.1:${s.upstreams[colour].port};`,
      "    keepalive 64;",
      "    keepalive_requests 1000000;",
      "  }",
    ].join("\n");
  return `# Written by cutover's bench; the active colour is ${s.active}.
worker_processes ${s.workers ?? 1};
daemon off;
master_process on;
pid ${s.dir}/nginx.pid;
error_log ${s.dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${s.dir}/client_body;
  proxy_temp_path ${s.dir}/proxy;
  fastcgi_temp_path ${s.dir}/fastcgi;
  uwsgi_temp_path ${s.dir}/uwsgi;
  scgi_temp_path ${s.dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
${pool("blue")}
${pool("green")}
  server {
    listen 127.0.0.1:${s.port}${s.tls ? " ssl" : ""};${
      s.tls
        ? `
    ssl_certificate ${s.tls.cert};
    ssl_certificate_key ${s.tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:1m;`
        : ""
    }
    location / {
      proxy_pass http://${s.active};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      add_header x-cutover-colour ${s.active} always;
    }
  }
}
`;
}

/**
 * nginx in front of the demo apps, blue active: "nginx" (one worker), "nginx-tls" (one worker, HTTPS), or
 * with `workers` > 1 "nginx-<workers>w" (`worker_processes <workers>`, plain HTTP), which the caller stops
 * itself when it is done with it (BenchProcesses stops it at the end otherwise).
 */
export function startNginxTarget(
  processes: BenchProcesses,
  nginx: string,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  dir: string,
  tls?: BenchCertificate | null,
  workers?: 1,
): Promise<BenchTarget>;
export function startNginxTarget(
  processes: BenchProcesses,
  nginx: string,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  dir: string,
  tls: null,
  workers: number,
): Promise<WorkersTarget>;
export async function startNginxTarget(
  processes: BenchProcesses,
  nginx: string,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  dir: string,
  tls: BenchCertificate | null = null,
  workers = 1,
): Promise<BenchTarget | WorkersTarget> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort("127.0.0.1", new Set([upstreams.blue.port, upstreams.green.port]));
  const config = join(dir, "nginx.conf");
  const write = (active: Colour) => {
    writeFileSync(`${config}.tmp`, renderNginxConfig({ dir, port, upstreams, active, tls, workers }));
    renameSync(`${config}.tmp`, config);
  };
  write("blue");
  execFileSync(nginx, ["-t", "-q", "-p", dir, "-c", config], { stdio: ["ignore", "ignore", "inherit"] });
  const master = processes.spawn(
    workers > 1 ? `nginx (${workers} workers)` : "nginx",
    nginx,
    ["-p", dir, "-c", config],
    {
      logFile: join(dir, "stderr.log"),
      stopSignal: "SIGQUIT",
    },
  );
  await waitForListener(port, master.pid, workers);
  const switchTo = async (colour: Colour) => {
    write(colour);
    await run(nginx, ["-p", dir, "-c", config, "-s", "reload"]);
  };
  const switchMethod = "rewrite proxy_pass to the other upstream, then `nginx -s reload`";
  if (workers > 1)
    return {
      name: `nginx-${workers}w`,
      label: `nginx ${nginxVersion(nginx)}, ${workers} workers (worker_processes ${workers})`,
      url: `http://127.0.0.1:${port}/`,
      pids: () => processTree(master.pid),
      switchMethod,
      switchTo,
      stop: () => master.stop(),
    };
  if (tls)
    return {
      name: "nginx-tls",
      label: `nginx ${nginxVersion(nginx)}, 1 worker, HTTPS (TLS 1.2/1.3, session cache)`,
      url: `https://127.0.0.1:${port}/`,
      pids: () => processTree(master.pid),
      switchMethod: "",
      switchTo: null,
    };
  return {
    name: "nginx",
    label: `nginx ${nginxVersion(nginx)}, 1 worker`,
    url: `http://127.0.0.1:${port}/`,
    pids: () => processTree(master.pid),
    switchMethod,
    switchTo,
  };
}

/** "1.22.1" (nginx -v writes its banner to stderr). */
export function nginxVersion(nginx: string): string {
  const banner = spawnSync(nginx, ["-v"], { encoding: "utf8" });
  return /nginx\/(\S+)/.exec(`${banner.stderr}${banner.stdout}`)?.[1] ?? "unknown";
}

/** Resolves once nginx accepts connections on `port` (its master has its `workers` workers). */
async function waitForListener(port: number, pid: number, workers: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open && processTree(pid).length > workers) return;
    if (Date.now() > deadline)
      throw new Error(`nginx (pid ${pid}) did not listen on 127.0.0.1:${port} in 10 s`);
    await sleep(50);
  }
}
