/**
 * A gRPC service through the whole product: `cutover up` with router.upstreamProtocol: h2c, router.tls and
 * health.grpc runs grpc-app.mjs (@grpc/grpc-js, grpc-health-check) as the replicas; gRPC clients reach them
 * through the router's TLS listener; a deploy under gRPC load fails no call and ends on green; a version whose
 * health service answers NOT_SERVING never takes traffic (the deploy fails, the service stays as it was).
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { coloursClient, GRPC_APP, who } from "../helpers/grpc-app.js";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { freePort, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const project of started.splice(0)) await runCli(project, "down");
});

interface GrpcProject extends Project {
  readonly ca: string;
}

/** A project of grpc-app replicas; `release(version, env)` adds releases/<version>/start.sh. */
async function grpcProject(): Promise<GrpcProject> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-grpc-"));
  const [listen, preview, admin] = [await freePort(), await freePort(), await freePort()];
  const { cert, key } = await loopbackCertificate();
  mkdirSync(join(dir, "tls"));
  writeFileSync(join(dir, "tls/cert.pem"), cert);
  writeFileSync(join(dir, "tls/key.pem"), key);
  const config = join(dir, "cutover.yaml");
  writeFileSync(
    config,
    `service: grpcsvc
version: 1.0.0
replicas: 2
start:
  command: "sh releases/{version}/start.sh"
  stopGrace: 3s
health:
  grpc: {}
  interval: 100ms
  timeout: 500ms
  startupGrace: 10s
router:
  listen: 127.0.0.1:${listen}
  preview: 127.0.0.1:${preview}
  admin: 127.0.0.1:${admin}
  drainTimeout: 5s
  upstreamProtocol: h2c
  tls:
    certificates:
      - { cert: tls/cert.pem, key: tls/key.pem }
deploy:
  readyTimeout: 5s
  scaleDownDelay: 1s
`,
  );
  const project: GrpcProject = {
    dir,
    config,
    listen,
    preview,
    admin,
    ca: cert,
    release(version, env = {}) {
      const folder = join(dir, "releases", version);
      mkdirSync(folder, { recursive: true });
      const exports = Object.entries(env)
        .map(([k, v]) => `export ${k}='${v}'\n`)
        .join("");
      writeFileSync(join(folder, "start.sh"), `#!/bin/sh\n${exports}exec node "${GRPC_APP}"\n`);
      chmodSync(join(folder, "start.sh"), 0o755);
    },
  };
  project.release("1.0.0");
  started.push(project);
  return project;
}

describe("cutover up with a gRPC service (h2c replicas, gRPC health checks)", () => {
  it("serves gRPC over TLS; a deploy under gRPC load fails no call; a NOT_SERVING version never takes traffic", async () => {
    const project = await grpcProject();
    project.release("2.0.0");
    project.release("3.0.0", { HEALTH_STATUS: "NOT_SERVING" });
    const up = await runCli(project, "up");
    expect(up.code, up.stderr).toBe(0);
    const client = coloursClient(`127.0.0.1:${project.listen}`, project.ca);
    clients.push(client);
    const first = await who(client, "hello");
    expect(first.reply.version).toBe("1.0.0");
    expect(first.headers["x-cutover-colour"]).toBe("blue");

    let running = true;
    const versions: string[] = [];
    const failures: string[] = [];
    const worker = async () => {
      while (running) {
        try {
          versions.push((await who(client, "load")).reply.version);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await eventually("the load is running", () => versions.length >= 50, 30_000);
    const deploy = await runCli(project, "deploy", "2.0.0");
    const afterDeploy = versions.length;
    await eventually(
      "50 calls were answered after the deploy",
      () => versions.length >= afterDeploy + 50,
      30_000,
    );
    running = false;
    await Promise.all(workers);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(failures).toEqual([]);
    expect(versions.slice(afterDeploy).every((version) => version === "2.0.0")).toBe(true);

    const refused = await runCli(project, "deploy", "3.0.0");
    expect(refused.code).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/NOT_SERVING/);
    const after = await who(client, "after");
    expect(after.reply.version).toBe("2.0.0");
    expect(after.headers["x-cutover-colour"]).toBe("green");
  }, 180_000);
});
