/**
 * AzureTrafficManagerFront through the real @azure/arm-trafficmanager SDK against the Traffic Manager
 * stand-in (test/azure/traffic-manager-stand-in.ts: real HTTPS, bearer tokens, the 2022-04-01 paths, and
 * endpointMonitorStatus from real probes). The regions are real HTTP servers on 127.0.0.2 and 127.0.0.3
 * sharing one port, as a profile's monitorConfig has one port for all endpoints; 127.0.0.4 on that port
 * has no server: that region is down. The credential is a fake TokenCredential that hands out a fixed token.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { type Profile, TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import type { TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AzureFrontConfig, RegionConfig } from "../../../src/config/fleet-schema.js";
import { CutoverError } from "../../../src/errors.js";
import {
  type AzureTrafficManagerFront,
  createAzureTrafficManagerFront,
} from "../../../src/front/azure/azure-traffic-manager-front.js";
import { renderTrafficManager } from "../../../src/front/azure/render-traffic-manager.js";
import { API_VERSION, TrafficManagerStandIn } from "../../azure/traffic-manager-stand-in.js";
import { azureParts, loadFleet, PROFILE, RESOURCE_GROUP, SUBSCRIPTION } from "./fleet-config.js";

const TOKEN = "stand-in-token-for-cutover";
const READER_TOKEN = "stand-in-token-of-a-reader";

const fakeCredential = (token: string): TokenCredential => ({
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
});

/** Region servers answering GET /healthz with 200, on the given loopback addresses and one shared port. */
async function startRegions(hosts: readonly string[]): Promise<{ port: number; servers: Server[] }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      for (const host of hosts) {
        const server = createServer((req, res) => {
          res.statusCode = req.url === "/healthz" ? 200 : 404;
          res.end(host);
        });
        servers.push(server);
        server.listen(port, host);
        await once(server, "listening");
        port = (server.address() as AddressInfo).port;
      }
      return { port, servers };
    } catch {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error("no port free on every region address");
}

let standIn: TrafficManagerStandIn;
let regionServers: Server[];
let front: AzureFrontConfig;
let regions: readonly RegionConfig[];
let tm: AzureTrafficManagerFront;

function frontWith(
  overrides: Partial<AzureFrontConfig> = {},
  token = TOKEN,
  moreRegions: readonly RegionConfig[] = [],
): AzureTrafficManagerFront {
  return createAzureTrafficManagerFront({ ...front, ...overrides }, [...regions, ...moreRegions], {
    credential: fakeCredential(token),
    pollMs: 50,
    ca: standIn.ca,
  });
}

beforeAll(async () => {
  const started = await startRegions(["127.0.0.2", "127.0.0.3"]);
  regionServers = started.servers;
  standIn = await TrafficManagerStandIn.start({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: RESOURCE_GROUP,
    tokens: [TOKEN],
    readOnlyTokens: [READER_TOKEN],
    probeIntervalMs: 150,
    probeTimeoutMs: 300,
  });
  const loaded = loadFleet({
    endpoints: {
      westeurope: `http://127.0.0.2:${started.port}`,
      eastus: `http://127.0.0.3:${started.port}`,
      westus: `http://127.0.0.4:${started.port}`,
    },
    front: { dnsTtl: 1, armEndpoint: standIn.url, probe: { failureThreshold: 1 } },
  });
  ({ front, regions } = azureParts(loaded));
  tm = frontWith();
});

afterAll(async () => {
  await tm?.close();
  await standIn?.close();
  await Promise.all((regionServers ?? []).map((s) => new Promise((r) => s.close(r))));
});

describe("the Traffic Manager stand-in", () => {
  function raw(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${standIn.url}${path}`, { ca: standIn.ca, headers }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }
  const profilePath = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Network/trafficmanagerprofiles/nothing`;

  it("answers as ARM does without a token, without api-version, and for a profile that is not there", async () => {
    const noToken = await raw(`${profilePath}?api-version=${API_VERSION}`);
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body)).toEqual({
      error: {
        code: "AuthenticationFailed",
        message: "Authentication failed. The 'Authorization' header is missing.",
      },
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const noVersion = await raw(profilePath, auth);
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.body).error.code).toBe("MissingApiVersionParameter");
    const missing = await raw(`${profilePath}?api-version=${API_VERSION}`, auth);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toMatchObject({ code: "ResourceNotFound" });
  });
});

describe("AzureTrafficManagerFront", () => {
  it("deploys the rendered profile through the SDK, which sends its fields unchanged", async () => {
    const rendered = renderTrafficManager({ front, regions, healthPath: "/healthz", file: "cutover.yaml" });
    const [resource] = rendered.template.resources;
    // The template's resource as the SDK's model (it flattens `properties`), sent with the SDK's own mappers.
    const model: Profile = {
      location: resource.location,
      ...resource.properties,
      endpoints: resource.properties.endpoints.map(({ properties, ...e }) => ({ ...e, ...properties })),
    };
    const client = new TrafficManagerManagementClient(fakeCredential(TOKEN), SUBSCRIPTION, {
      endpoint: standIn.url,
      tlsOptions: { ca: standIn.ca },
    });
    await client.profiles.createOrUpdate(RESOURCE_GROUP, PROFILE, model);
    const put = standIn.writes.at(-1);
    expect(put).toMatchObject({ method: "PUT", status: 201 });
    // What went on the wire is the template's resource: every field name the SDK knows, none dropped.
    expect(put?.body).toEqual({ location: "global", properties: resource.properties });

    await Promise.all([
      standIn.reached("westeurope", "Online"),
      standIn.reached("eastus", "Online"),
      standIn.reached("westus", "Degraded"),
    ]);
    const states = await tm.status();
    expect(states).toEqual([
      { region: "westeurope", enabled: true, healthy: true, priority: 1, weight: 1, detail: "Online" },
      { region: "eastus", enabled: true, healthy: true, priority: 2, weight: 1, detail: "Online" },
      { region: "westus", enabled: true, healthy: false, priority: 3, weight: 1, detail: "Degraded" },
    ]);
  });

  it("drains a region: disables its endpoint, reads it back Disabled, then waits out the DNS TTL", async () => {
    const writesBefore = standIn.writes.length;
    await tm.drain("westeurope");
    const done = Date.now();
    const writes = standIn.writes.slice(writesBefore);
    expect(writes.map((w) => [w.method, w.endpoint, w.body, w.status])).toEqual([
      ["PATCH", "westeurope", { properties: { endpointStatus: "Disabled" } }, 200],
    ]);
    expect(writes[0]?.path).toMatch(/\/trafficmanagerprofiles\/shop-front\/ExternalEndpoints\/westeurope$/);
    const patchedAt = writes[0]?.at ?? 0;
    expect(
      standIn.reads.some(
        (r) => r.endpoint === "westeurope" && r.monitorStatus === "Disabled" && r.at >= patchedAt,
      ),
    ).toBe(true);
    // dnsTtl 1: resolvers may still answer with the region for a second after the change.
    expect(done - patchedAt).toBeGreaterThanOrEqual(990);
    expect(standIn.monitorStatus(PROFILE, "westeurope")).toBe("Disabled");
    const state = (await tm.status()).find((s) => s.region === "westeurope");
    expect(state).toEqual({
      region: "westeurope",
      enabled: false,
      healthy: null,
      priority: 1,
      weight: 1,
      detail: "Disabled",
    });
  });

  it("restores a region: enables it and waits through CheckingEndpoint until the probe sees it Online", async () => {
    const writesBefore = standIn.writes.length;
    const readsBefore = standIn.reads.length;
    const transitionsBefore = standIn.transitions.length;
    await tm.restore("westeurope");
    const done = Date.now();
    expect(standIn.writes.slice(writesBefore).map((w) => [w.method, w.endpoint, w.body])).toEqual([
      ["PATCH", "westeurope", { properties: { endpointStatus: "Enabled" } }],
    ]);
    const transitions = standIn.transitions
      .slice(transitionsBefore)
      .filter((t) => t.endpoint === "westeurope");
    expect(transitions.map((t) => t.status)).toEqual(["CheckingEndpoint", "Online"]);
    expect(done).toBeGreaterThanOrEqual(transitions[1]?.at ?? Number.POSITIVE_INFINITY);
    const seen = standIn.reads
      .slice(readsBefore)
      .filter((r) => r.endpoint === "westeurope")
      .map((r) => r.monitorStatus);
    expect(seen[0]).toBe("CheckingEndpoint");
    expect(seen.at(-1)).toBe("Online");
    expect((await tm.status()).find((s) => s.region === "westeurope")).toMatchObject({
      enabled: true,
      healthy: true,
    });
  });

  it("keeps waiting while a restored region is Degraded, until the signal stops it, and says why", async () => {
    await tm.drain("westus");
    const transitionsBefore = standIn.transitions.length;
    const controller = new AbortController();
    void standIn.reached("westus", "Degraded").then(() =>
      // The front has read Degraded at least once by its next poll; the runner's deadline comes after.
      setTimeout(() => controller.abort(new Error("the wave's deadline passed")), 300),
    );
    const restoring = tm.restore("westus", controller.signal);
    await expect(restoring).rejects.toThrow(CutoverError);
    await expect(restoring).rejects.toMatchObject({ code: "FRONT_NOT_CONFIRMED" });
    await expect(restoring).rejects.toThrow(
      /^stopped waiting: the wave's deadline passed for Traffic Manager to see region "westus" healthy; its endpoint is enabled but reads Degraded \(Traffic Manager's probe of it fails/,
    );
    const statuses = standIn.transitions.slice(transitionsBefore).filter((t) => t.endpoint === "westus");
    expect(statuses.map((t) => t.status)).toEqual(["CheckingEndpoint", "Degraded"]);
    expect(standIn.reads.filter((r) => r.endpoint === "westus").map((r) => r.monitorStatus)).toContain(
      "Degraded",
    );
  });

  it("finishes a restore that waited through Degraded once the region answers its probe", async () => {
    const controller = new AbortController();
    const restoring = tm.restore("westus", controller.signal);
    await standIn.reached("westus", "Degraded");
    const port = Number(new URL(regions[2]?.endpoint ?? "").port);
    const late = createServer((_req, res) => res.end("westus"));
    regionServers.push(late);
    late.listen(port, "127.0.0.4");
    await once(late, "listening");
    await restoring;
    expect(standIn.monitorStatus(PROFILE, "westus")).toBe("Online");
    expect((await tm.status()).find((s) => s.region === "westus")).toMatchObject({
      healthy: true,
      detail: "Online",
    });
  });

  it("maps a token ARM does not accept (401) to what to do", async () => {
    const failure = frontWith({}, "a-token-that-expired").status();
    await expect(failure).rejects.toMatchObject({ code: "TRAFFIC_MANAGER_API" });
    await expect(failure).rejects.toThrow(
      /did not accept the credential's token when cutover tried to read the Traffic Manager profile \(401 InvalidAuthenticationToken: .*\); sign in again/,
    );
  });

  it("maps a credential without write access (403) to the role it needs on the resource group", async () => {
    const reader = frontWith({}, READER_TOKEN);
    expect((await reader.status()).length).toBe(3);
    const failure = reader.drain("eastus");
    await expect(failure).rejects.toMatchObject({ code: "TRAFFIC_MANAGER_API" });
    await expect(failure).rejects.toThrow(
      `give it the "Traffic Manager Contributor" role on /subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}`,
    );
    expect(standIn.monitorStatus(PROFILE, "eastus")).toBe("Online");
  });

  it("maps a missing profile, endpoint or resource group (404) to rendering and deploying the profile", async () => {
    const noProfile = frontWith({ profile: "not-deployed" }).status();
    await expect(noProfile).rejects.toMatchObject({ code: "TRAFFIC_MANAGER_MISSING" });
    await expect(noProfile).rejects.toThrow(
      /the Traffic Manager profile not-deployed is not in resource group shop-global .*\(404 ResourceNotFound: .*\); run `cutover render traffic-manager -o traffic-manager.json` and deploy it/,
    );
    const centralus = { ...(regions[0] as RegionConfig), name: "centralus" };
    const noEndpoint = frontWith({}, TOKEN, [centralus]).drain("centralus");
    await expect(noEndpoint).rejects.toMatchObject({ code: "TRAFFIC_MANAGER_MISSING" });
    await expect(noEndpoint).rejects.toThrow(
      /the external endpoint "centralus" of the Traffic Manager profile shop-front is not in/,
    );
    const noGroup = frontWith({ resourceGroup: "elsewhere" }).status();
    await expect(noGroup).rejects.toThrow(
      /resource group elsewhere of subscription .* does not exist \(404 ResourceGroupNotFound/,
    );
  });

  it("refuses a region that is not in regions:", async () => {
    await expect(tm.drain("mars")).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
    await expect(tm.drain("mars")).rejects.toThrow(
      /no region "mars" in regions: \(they are "westeurope", "eastus", "westus"\)/,
    );
  });
});
