/**
 * router.tls through the whole product: `cutover up` serves HTTPS from the data plane process, a deploy under
 * HTTPS load loses nothing, and a certificate that cannot be read stops `cutover up` with the file named.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

async function httpsProject(): Promise<{ project: Project; ca: string }> {
  const { cert, key } = await loopbackCertificate();
  const project = await makeProject({
    replicas: 2,
    router: "  tls:\n    certificates:\n      - { cert: tls/cert.pem, key: tls/key.pem }",
  });
  started.push(project);
  mkdirSync(join(project.dir, "tls"));
  writeFileSync(join(project.dir, "tls/cert.pem"), cert);
  writeFileSync(join(project.dir, "tls/key.pem"), key);
  return { project, ca: cert };
}

describe("cutover up with router.tls", () => {
  it("serves HTTPS, and a deploy under HTTPS load fails no request and ends on green", async () => {
    const { project, ca } = await httpsProject();
    project.release("2.0.0");
    const up = await runCli(project, "up");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`serving on https://127\\.0\\.0\\.1:${project.listen}`));
    const url = `https://127.0.0.1:${project.listen}`;
    const load = steadyLoad(url, { ratePerSecond: 100, maxDurationMs: 60_000, ca });
    const deploy = await runCli(project, "deploy", "2.0.0");
    expect(deploy.code, deploy.stderr).toBe(0);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect([...result.statuses.keys()]).toEqual([200]);
    expect(result.colours.get("green")).toBeGreaterThan(0);
    const dispatcher = new Agent({ connect: { ca } });
    const answer = await fetch(`${url}/`, { dispatcher });
    expect(answer.headers.get("x-cutover-colour")).toBe("green");
    await answer.arrayBuffer();
    await dispatcher.close();
  });

  it("refuses to start when a certificate file cannot be read, naming it", async () => {
    const { project } = await httpsProject();
    writeFileSync(
      project.config,
      readFileSync(project.config, "utf8").replace("tls/key.pem", "tls/missing.pem"),
    );
    const up = await runCli(project, "up");
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/router\.tls: cannot read .*tls\/missing\.pem/);
  });
});
