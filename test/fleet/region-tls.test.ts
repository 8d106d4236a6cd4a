/**
 * A region on another machine is reached over https only, its certificate checked against the CA the fleet's
 * cutover.yaml names (`regions[].admin.ca`). Here the region's admin API sits behind a TLS terminator (as on a
 * real machine: nginx, HAProxy, or a load balancer before the daemon's loopback admin address) with a
 * certificate of its own CA.
 */
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Fleet } from "../../src/fleet/fleet-runner.js";
import { liveVersion } from "../../src/fleet/live-version.js";
import { silentLogger } from "../../src/log.js";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { type RegionUnderTest, startRegions, stopRegions } from "./fleet-helpers.js";

let regions: RegionUnderTest[] = [];
let terminator: Server | null = null;
afterEach(async () => {
  terminator?.closeAllConnections();
  await new Promise<void>((resolve) => (terminator ? terminator.close(() => resolve()) : resolve()));
  terminator = null;
  await stopRegions(regions);
  regions = [];
});

/** An https server on 127.0.0.1 that passes every request on to the region's admin API over loopback. */
async function tlsTerminator(adminPort: number): Promise<{ port: number; cert: string }> {
  const { cert, key } = await loopbackCertificate();
  terminator = createServer({ key, cert }, (req, res) => {
    const upstream = httpRequest(
      { host: "127.0.0.1", port: adminPort, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  terminator.listen(0, "127.0.0.1");
  await once(terminator, "listening");
  return { port: (terminator.address() as AddressInfo).port, cert };
}

function fleetYaml(dir: string, port: number, token: string, ca: string | null): string {
  const file = join(dir, "fleet-tls.yaml");
  const caLine = ca === null ? "" : `, ca: ${ca}`;
  writeFileSync(
    file,
    `service: testsvc
version: 1.0.0
regions:
  - name: eu
    admin: { url: "https://127.0.0.1:${port}", token: "${token}"${caLine} }
`,
  );
  return file;
}

describe("a region reached over https", { timeout: 60_000 }, () => {
  it("trusts the region's certificate through regions[].admin.ca, and refuses it without", async () => {
    regions = await startRegions(["eu"]);
    const region = regions[0] as RegionUnderTest;
    const { port, cert } = await tlsTerminator(region.project.admin);
    writeFileSync(join(region.project.dir, "region-ca.pem"), cert);
    const token = (await import("node:fs"))
      .readFileSync(join(loadConfig(region.project.config).stateDir, "token"), "utf8")
      .trim();

    const trusted = await Fleet.open(
      loadConfig(fleetYaml(region.project.dir, port, token, "region-ca.pem")),
      silentLogger(),
    );
    const status = await trusted.region("eu").control.status();
    expect(liveVersion(status)).toBe("1.0.0");
    expect(trusted.region("eu").where).toBe(`https://127.0.0.1:${port}`);
    await trusted.close();

    // Without the CA the certificate is not trusted: the region does not answer, and says why.
    const untrusted = await Fleet.open(
      loadConfig(fleetYaml(region.project.dir, port, token, null)),
      silentLogger(),
    );
    await expect(untrusted.region("eu").control.status()).rejects.toThrow(
      /certificate that is not trusted \(\w+\); name the CA that signed it \(regions\[\]\.admin\.ca/,
    );
    await untrusted.close();
  });
});
