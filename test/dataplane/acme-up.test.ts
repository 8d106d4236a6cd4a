/**
 * router.tls.acme through the whole product: `cutover up` starts the data plane process, whose router orders
 * a certificate from Debian's pebble (which checks the http-01 challenge on the router's port-80 listener),
 * serves the service with it, and after `cutover down` and `up` again serves the kept one without a new
 * order. The cutover processes trust pebble's own HTTPS through NODE_EXTRA_CA_CERTS, as a user of a private
 * CA could; clients trust only pebble's issuing root.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { PEBBLE_MISSING, type Pebble, pebbleInstalled, startPebble } from "../helpers/pebble.js";
import { freePort, makeProject, type Project, runCli } from "../helpers/project.js";

const installed = pebbleInstalled();

/** The serial of the certificate shown for `servername` to a client that trusts only `ca`; null when refused. */
function verifiedSerial(port: number, servername: string, ca: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca }, () => {
      resolve(socket.getPeerX509Certificate()?.serialNumber ?? null);
      socket.end();
    });
    socket.once("error", () => resolve(null));
  });
}

function get(port: number, servername: string, ca: string) {
  return new Promise<{ status: number; colour: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", servername, ca, agent: false }, (res) => {
      res.resume();
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, colour: String(res.headers["x-cutover-colour"]) }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

const events = (project: Project, event: string) =>
  readFileSync(join(project.dir, ".cutover", "dataplane.log"), "utf8")
    .split("\n")
    .filter((line) => line.includes(`"event":"${event}"`));

describe.skipIf(!installed)(
  `cutover up with router.tls.acme${installed ? "" : ` (skipped: ${PEBBLE_MISSING})`}`,
  () => {
    let pebble: Pebble;
    let root = "";
    let httpPort = 0;
    const projects: Project[] = [];

    beforeAll(async () => {
      httpPort = await freePort();
      pebble = await startPebble({ httpPort });
      root = await pebble.root();
      // Inherited by the CLI, the daemon and the data plane process it starts.
      process.env.NODE_EXTRA_CA_CERTS = pebble.httpsCaFile;
    });
    afterEach(async () => {
      for (const project of projects.splice(0)) await runCli(project, "down");
    });
    afterAll(async () => {
      delete process.env.NODE_EXTRA_CA_CERTS;
      await pebble?.stop();
    });

    // Two `up`s and a `down`: 15 s on a quiet machine, 45 s at a load of 18 on 2 cores.
    it("orders a certificate in the data plane, serves the service with it, and reuses it after down and up", {
      timeout: 240_000,
    }, async () => {
      const project = await makeProject({
        router: [
          "  tls:",
          `    redirectHttp: 127.0.0.1:${httpPort}`,
          "    acme:",
          "      domains: [app.test]",
          "      email: ops@app.test",
          `      directory: ${pebble.directory}`,
        ].join("\n"),
      });
      projects.push(project);
      const up = await runCli(project, "up");
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(
        `serving on https://127.0.0.1:${project.listen} (http://127.0.0.1:${httpPort} redirects there)`,
      );
      // Ordered in the background once the router listens: a second or two here, 90 s on a busy machine.
      let serial: string | null = null;
      await eventually(
        "the router serves a certificate for app.test that pebble's root verifies",
        async () => {
          serial = await verifiedSerial(project.listen, "app.test", root);
          return serial !== null;
        },
        90_000,
      );
      expect(await get(project.listen, "app.test", root)).toEqual({ status: 200, colour: "blue" });
      expect(events(project, "acme-issued")).toHaveLength(1);
      // Its expiry, from the data plane process through the daemon's /metrics, for an alert long before it.
      const metrics = await fetch(`http://127.0.0.1:${project.admin}/metrics`, {
        headers: {
          authorization: `Bearer ${readFileSync(join(project.dir, ".cutover/token"), "utf8").trim()}`,
        },
      });
      expect(await metrics.text()).toMatch(/cutover_tls_certificate_expiry_seconds\{name="app\.test"\} \d+/);

      const down = await runCli(project, "down");
      expect(down.code, down.stderr).toBe(0);
      const again = await runCli(project, "up");
      expect(again.code, again.stderr).toBe(0);
      // The kept certificate is served from the start: no wait, no second order.
      expect(await verifiedSerial(project.listen, "app.test", root)).toBe(serial);
      expect(events(project, "acme-kept")).toHaveLength(1);
      expect(events(project, "acme-order")).toHaveLength(1);
      expect(await get(project.listen, "app.test", root)).toEqual({ status: 200, colour: "blue" });
    });
  },
);
