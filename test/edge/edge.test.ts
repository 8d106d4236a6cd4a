/**
 * Two services behind one `cutover edge`, all real processes: two project folders, each its own `cutover up`
 * (daemon, data plane, replicas of the named app) on its own loopback ports, and the edge (the built CLI)
 * routing alpha.test to one and beta.test to the other. A deploy of alpha under steady load on both hosts
 * fails no request on either and never lets one service answer for the other's host; `cutover down` of beta
 * then makes beta.test answer 503 while alpha.test answers on.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SERVICE_HEADER } from "../../src/edge/edge-proxy.js";
import { downAll, project, status, up } from "../dataplane/dataplane-helpers.js";
import { eventually } from "../helpers/eventually.js";
import { CLI, freePort, type Project, ROOT, runCli } from "../helpers/project.js";
import { send } from "./edge-fixtures.js";
import { type HostLoad, type HostLoadResult, hostLoad } from "./host-load.js";

const NAMED_APP = join(ROOT, "test/edge/named-app.mjs");
/** Each host's load: bounded, and far below what one core proxies, so a busy machine still keeps up. */
const RATE = 100;

const edges: ChildProcess[] = [];
afterEach(async () => {
  for (const child of edges.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await downAll();
});

/** A project folder whose service is `name`, with releases 1.0.0 and 2.0.0 of the named app. */
async function namedService(name: string): Promise<Project> {
  const made = await project();
  writeFileSync(
    made.config,
    readFileSync(made.config, "utf8").replace("service: testsvc", `service: ${name}`),
  );
  for (const version of ["1.0.0", "2.0.0"]) {
    const folder = join(made.dir, "releases", version);
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, "start.sh"),
      `#!/bin/sh\nexport SERVICE_NAME='${name}'\nexec node "${NAMED_APP}"\n`,
    );
  }
  return made;
}

/** `cutover -c <file> edge` from the build, as a user runs it; `output` grows as it prints. */
function runEdge(file: string): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, "-c", file, "edge"], {
    env: { ...process.env, NO_COLOR: "1", CUTOVER_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  edges.push(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until `load` has had `more` answers (or failures) beyond those it has now. */
async function answered(load: HostLoad, more: number, what: string): Promise<void> {
  const target = load.done() + more;
  await eventually(`${more} more answers ${what}`, () => load.done() >= target, 60_000);
}

function expectOnlyFrom(result: HostLoadResult, service: string): void {
  expect(result.failures).toEqual([]);
  expect([...result.statuses.keys()]).toEqual([200]);
  expect([...result.services.keys()]).toEqual([service]);
}

describe("cutover edge in front of two services", () => {
  it("a deploy of one under load fails no request on either host, and neither answers for the other", async () => {
    const [alpha, beta] = [await namedService("alpha"), await namedService("beta")];
    await up(alpha);
    await up(beta);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "cutover-edge-e2e-"));
    const file = join(dir, "cutover-edge.yaml");
    writeFileSync(
      file,
      `listen: 127.0.0.1:${port}
drainTimeout: 5s
services:
  - config: ${alpha.config}
    hosts: [alpha.test]
  - config: ${beta.config}
    hosts: [beta.test, "*.beta.test"]
`,
    );
    const edge = runEdge(file);
    await eventually(
      "the edge says where it listens",
      () => edge.output().includes("Edge listening on"),
      30_000,
    );
    expect(edge.output()).toContain(`Edge listening on http://127.0.0.1:${port}`);
    expect(edge.output()).toContain(`alpha.test -> alpha (http://127.0.0.1:${alpha.listen})`);

    const first = await send(port, "alpha.test");
    expect(first.headers[SERVICE_HEADER]).toBe("alpha");
    expect(first.headers["x-cutover-colour"]).toBe("blue");
    expect(JSON.parse(first.body)).toMatchObject({
      service: "alpha",
      version: "1.0.0",
      host: "alpha.test",
      forwardedHost: "alpha.test",
      forwardedProto: "http",
    });

    const url = `http://127.0.0.1:${port}`;
    const alphaLoad = hostLoad(url, "alpha.test", { ratePerSecond: RATE, maxDurationMs: 120_000 });
    const betaLoad = hostLoad(url, "eu.beta.test", { ratePerSecond: RATE, maxDurationMs: 120_000 });
    await answered(alphaLoad, RATE, "on alpha.test before the deploy");
    const deploy = await runCli(alpha, "deploy", "2.0.0");
    expect(deploy.code, deploy.stderr).toBe(0);
    // Load goes on for a second after the deploy returned: the old colour is drained and stopped by then.
    await answered(alphaLoad, RATE, "on alpha.test after the deploy");
    const [alphaResult, betaResult] = await Promise.all([alphaLoad.stop(), betaLoad.stop()]);
    expectOnlyFrom(alphaResult, "alpha");
    expectOnlyFrom(betaResult, "beta");
    expect([...alphaResult.versions.keys()]).toEqual(["1.0.0", "2.0.0"]);
    expect(alphaResult.lastVersion).toBe("2.0.0");
    expect([...betaResult.versions.keys()]).toEqual(["1.0.0"]);
    const alphaStatus = await status(alpha);
    expect(alphaStatus.colours[alphaStatus.active].version).toBe("2.0.0");
    console.log(
      `edge e2e: alpha ${alphaResult.sent} requests (${[...alphaResult.versions].join(", ")}), beta ${betaResult.sent}, 0 failed`,
    );

    // beta goes down while alpha.test is under load: beta's hosts answer 503, alpha's answer on.
    const duringDown = hostLoad(url, "alpha.test", { ratePerSecond: RATE, maxDurationMs: 120_000 });
    const down = await runCli(beta, "down");
    expect(down.code, down.stderr).toBe(0);
    const gone = await send(port, "beta.test");
    expect(gone.status).toBe(503);
    expect(gone.headers["retry-after"]).toBe("1");
    expect(gone.body).toMatch(/^service beta is not reachable \(ECONNREFUSED\)/);
    await answered(duringDown, RATE / 2, "on alpha.test after beta went down");
    const alphaDuringDown = await duringDown.stop();
    expectOnlyFrom(alphaDuringDown, "alpha");
    expect([...alphaDuringDown.versions.keys()]).toEqual(["2.0.0"]);

    edge.child.kill("SIGTERM");
    expect(await edge.exited).toBe(0);
    await expect(send(port, "alpha.test")).rejects.toThrow();
  }, 240_000);

  it("exits 2 naming the service whose cutover.yaml does not exist, and what to give instead", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-edge-cli-"));
    const file = join(dir, "edge.yaml");
    writeFileSync(
      file,
      "listen: 127.0.0.1:8080\nservices:\n  - config: shop/cutover.yaml\n    hosts: [shop.test]\n",
    );
    const edge = runEdge(file);
    expect(await edge.exited).toBe(2);
    expect(edge.output()).toContain(`cutover: ${file} is not valid:`);
    expect(edge.output()).toContain(
      `services[0].config: ${join(dir, "shop/cutover.yaml")} does not exist; give the path of the service's cutover.yaml`,
    );
  });
});
