/**
 * `cutover render traffic-manager`: the ARM template of the fleet's Traffic Manager profile, checked field
 * by field against the documented schema.
 *
 * Where the field names and allowed values come from:
 * - Microsoft's REST reference for Microsoft.Network/trafficmanagerprofiles, API version 2022-04-01 (the
 *   swagger in Azure/azure-rest-api-specs, specification/trafficmanager/resource-manager/Microsoft.Network/
 *   stable/2022-04-01/trafficmanager.json): the definitions Profile/ProfileProperties, DnsConfig,
 *   MonitorConfig, Endpoint/EndpointProperties (DOCUMENTED below lists their properties; read-only ones
 *   are marked), and its example Profile-PUT-WithEndpoints (location "global", endpoint `type`).
 * - The ARM template reference, learn.microsoft.com/azure/templates/microsoft.network/trafficmanagerprofiles.
 * - @azure/arm-trafficmanager 6.1's MonitorConfig, DnsConfig and Endpoint interfaces (the renderer is typed
 *   with them) and its Known* enums for the values (checked at run time below).
 * - learn.microsoft.com azure/traffic-manager/traffic-manager-monitoring for the allowed probe values:
 *   interval 30 or 10 s; timeout 5–10 s at 30 s, 5–9 s at 10 s; tolerated failures 0–9.
 * The front's tests deploy this template to the stand-in through the SDK and compare what went on the wire.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KnownEndpointStatus,
  KnownMonitorProtocol,
  KnownProfileStatus,
  KnownTrafficRoutingMethod,
} from "@azure/arm-trafficmanager";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerRenderCommand } from "../../../src/cli/commands/render.js";
import { Output } from "../../../src/cli/output.js";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError, CutoverError } from "../../../src/errors.js";
import {
  type ArmProfile,
  renderTrafficManager,
  TRAFFIC_MANAGER_API_VERSION,
} from "../../../src/front/azure/render-traffic-manager.js";
import { runCli } from "../../helpers/project.js";
import { azureParts, fleetYaml, loadFleet, PROFILE } from "./fleet-config.js";

/** The REST reference's properties (2022-04-01); the value says whether the property is read-only. */
const DOCUMENTED = {
  profile: { type: false, apiVersion: false, name: false, location: false, tags: false, properties: false },
  profileProperties: {
    profileStatus: false,
    trafficRoutingMethod: false,
    dnsConfig: false,
    monitorConfig: false,
    endpoints: false,
    trafficViewEnrollmentStatus: false,
    allowedEndpointRecordTypes: false,
    maxReturn: false,
  },
  dnsConfig: { relativeName: false, fqdn: true, ttl: false },
  monitorConfig: {
    profileMonitorStatus: true,
    protocol: false,
    port: false,
    path: false,
    intervalInSeconds: false,
    timeoutInSeconds: false,
    toleratedNumberOfFailures: false,
    customHeaders: false,
    expectedStatusCodeRanges: false,
  },
  endpoint: { id: false, name: false, type: false, properties: false },
  endpointProperties: {
    targetResourceId: false,
    target: false,
    endpointStatus: false,
    weight: false,
    priority: false,
    endpointLocation: false,
    endpointMonitorStatus: true,
    minChildEndpoints: false,
    minChildEndpointsIPv4: false,
    minChildEndpointsIPv6: false,
    geoMapping: false,
    subnets: false,
    customHeaders: false,
    alwaysServe: false,
  },
} as const;

function expectDocumented(object: object, fields: Readonly<Record<string, boolean>>, where: string): void {
  for (const key of Object.keys(object)) {
    expect(fields, `${where}.${key} is not in the REST reference`).toHaveProperty(key);
    expect(fields[key], `${where}.${key} is read-only: ARM ignores it`).toBe(false);
  }
}

const ENDPOINTS = {
  westeurope: "https://eu.shop.example.com",
  eastus: "https://us.shop.example.com:443/",
  westus: "https://[2001:db8::1]",
};

function render(options: Parameters<typeof loadFleet>[0]) {
  const loaded = loadFleet(options);
  const { front, regions } = azureParts(loaded);
  return renderTrafficManager({ front, regions, healthPath: loaded.config.health.path, file: loaded.file });
}

function profileOf(rendered: ReturnType<typeof render>): ArmProfile {
  // What `az deployment group create` reads: the JSON text.
  const template = JSON.parse(JSON.stringify(rendered.template));
  expect(template.resources).toHaveLength(1);
  return template.resources[0] as ArmProfile;
}

describe("renderTrafficManager", () => {
  it("renders a Priority profile with one external endpoint per region, in the documented fields only", () => {
    const rendered = render({ endpoints: ENDPOINTS, regionExtras: { westus: { priority: 9, weight: 5 } } });
    const template = JSON.parse(JSON.stringify(rendered.template));
    expect(template.$schema).toBe(
      "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    );
    expect(template.contentVersion).toBe("1.0.0.0");
    const profile = profileOf(rendered);
    expectDocumented(profile, DOCUMENTED.profile, "resource");
    expect(profile.type).toBe("Microsoft.Network/trafficmanagerprofiles");
    expect(profile.apiVersion).toBe(TRAFFIC_MANAGER_API_VERSION);
    expect(profile.apiVersion).toBe("2022-04-01");
    expect(profile.name).toBe(PROFILE);
    expect(profile.location).toBe("global");

    const p = profile.properties;
    expectDocumented(p, DOCUMENTED.profileProperties, "properties");
    expect(p.profileStatus).toBe(KnownProfileStatus.Enabled);
    expect(p.trafficRoutingMethod).toBe(KnownTrafficRoutingMethod.Priority);
    expectDocumented(p.dnsConfig, DOCUMENTED.dnsConfig, "dnsConfig");
    expect(p.dnsConfig).toEqual({ relativeName: PROFILE, ttl: 30 });

    expectDocumented(p.monitorConfig, DOCUMENTED.monitorConfig, "monitorConfig");
    expect(p.monitorConfig.protocol).toBe(KnownMonitorProtocol.Https);
    expect(p.monitorConfig.port).toBe(443);
    expect(p.monitorConfig.path).toBe("/healthz");

    expect(p.endpoints.map((e) => e.name)).toEqual(["westeurope", "eastus", "westus"]);
    for (const e of p.endpoints) {
      expectDocumented(e, DOCUMENTED.endpoint, `endpoints[${e.name}]`);
      expectDocumented(e.properties, DOCUMENTED.endpointProperties, `endpoints[${e.name}].properties`);
      expect(e.type).toBe("Microsoft.Network/trafficManagerProfiles/externalEndpoints");
      expect(e.properties.endpointStatus).toBe(KnownEndpointStatus.Enabled);
      expect(e.properties.endpointLocation).toBe(e.name);
    }
    expect(p.endpoints.map((e) => e.properties.target)).toEqual([
      "eu.shop.example.com",
      "us.shop.example.com",
      "2001:db8::1",
    ]);
    expect(p.endpoints.map((e) => e.properties.priority)).toEqual([1, 2, 9]);
    expect(p.endpoints.map((e) => e.properties.weight)).toEqual([1, 1, 5]);
  });

  it("maps cutover's 1 s probe to fast probing (10 s) with a 5 s timeout, and says so", () => {
    const rendered = render({ endpoints: ENDPOINTS });
    const m = profileOf(rendered).properties.monitorConfig;
    expect(m.intervalInSeconds).toBe(10);
    expect(m.timeoutInSeconds).toBe(5);
    // failureThreshold 3: two failures tolerated, the third marks the region Degraded.
    expect(m.toleratedNumberOfFailures).toBe(2);
    expect(m.expectedStatusCodeRanges).toEqual([{ min: 200, max: 299 }]);
    expect(rendered.notes).toEqual([
      expect.stringMatching(
        /^probe.interval 1s: Traffic Manager probes every 10 s or 30 s only; rendered intervalInSeconds 10 \(fast probing/,
      ),
      expect.stringMatching(
        /^probe.timeout 1s: at 10 s probing Traffic Manager takes a timeout of 5 to 9 s; rendered timeoutInSeconds 5$/,
      ),
    ]);
    expect(rendered.template.metadata.notes).toEqual(rendered.notes);
  });

  it.each([
    { interval: "10s", timeout: "9s", want: [10, 9], notes: [] },
    {
      interval: "10s",
      timeout: "10s",
      want: [10, 9],
      notes: [/probe.timeout 10s: .* 5 to 9 s; rendered timeoutInSeconds 9/],
    },
    {
      interval: "15s",
      timeout: "5s",
      want: [30, 5],
      notes: [/probe.interval 15s: .*rendered intervalInSeconds 30$/],
    },
    { interval: "30s", timeout: "10s", want: [30, 10], notes: [] },
    {
      interval: "2m",
      timeout: "30s",
      want: [30, 10],
      notes: [/rendered intervalInSeconds 30$/, /5 to 10 s; rendered timeoutInSeconds 10$/],
    },
    {
      interval: "30s",
      timeout: "2500ms",
      want: [30, 5],
      notes: [/probe.timeout 2500ms: .*rendered timeoutInSeconds 5$/],
    },
  ])("probe every $interval, timeout $timeout → intervalInSeconds and timeoutInSeconds $want", (c) => {
    const rendered = render({
      endpoints: ENDPOINTS,
      front: { probe: { interval: c.interval, timeout: c.timeout } },
    });
    const m = profileOf(rendered).properties.monitorConfig;
    expect([m.intervalInSeconds, m.timeoutInSeconds]).toEqual(c.want);
    expect(rendered.notes).toEqual(c.notes.map((n) => expect.stringMatching(n)));
  });

  it("renders Weighted routing with each region's weight, probe.path, failureThreshold 10 as 9 tolerated, the TTL", () => {
    const rendered = render({
      endpoints: { westeurope: "http://eu.shop.example.com:8080", eastus: "http://us.shop.example.com:8080" },
      regionExtras: { westeurope: { weight: 3 }, eastus: { weight: 1 } },
      front: {
        routing: "weighted",
        dnsTtl: 10,
        probe: { path: "/ready", interval: "30s", timeout: "10s", failureThreshold: 10, successThreshold: 2 },
      },
    });
    const p = profileOf(rendered).properties;
    expect(p.trafficRoutingMethod).toBe(KnownTrafficRoutingMethod.Weighted);
    expect(p.dnsConfig.ttl).toBe(10);
    expect(p.monitorConfig).toEqual({
      protocol: KnownMonitorProtocol.Http,
      port: 8080,
      path: "/ready",
      intervalInSeconds: 30,
      timeoutInSeconds: 10,
      toleratedNumberOfFailures: 9,
      expectedStatusCodeRanges: [{ min: 200, max: 299 }],
    });
    expect(p.endpoints.map((e) => [e.name, e.properties.weight])).toEqual([
      ["westeurope", 3],
      ["eastus", 1],
    ]);
    expect(rendered.notes).toEqual([expect.stringMatching(/^probe.successThreshold 2: .*one passing probe/)]);
  });

  it("refuses regions on different schemes or ports, and two regions with one priority, saying what to change", () => {
    expect(() =>
      render({ endpoints: { westeurope: "https://eu.example.com", eastus: "http://us.example.com" } }),
    ).toThrow(
      /one protocol and port, but these use HTTPS:443 \(westeurope\), HTTP:80 \(eastus\); serve every region/,
    );
    const clash = () => render({ endpoints: ENDPOINTS, regionExtras: { westus: { priority: 1 } } });
    expect(clash).toThrow(ConfigError);
    expect(clash).toThrow(
      /"westeurope" and "westus" have priority 1; Traffic Manager needs a different priority/,
    );
    // Weighted routing does not use priorities.
    expect(() =>
      render({
        endpoints: ENDPOINTS,
        regionExtras: { westus: { priority: 1 } },
        front: { routing: "weighted" },
      }),
    ).not.toThrow();
  });
});

describe("cutover render traffic-manager", () => {
  afterEach(() => vi.restoreAllMocks());

  function capture(stream: NodeJS.WriteStream): string[] {
    const written: string[] = [];
    vi.spyOn(stream, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    return written;
  }

  async function run(yaml: string, args: string[], json = false): Promise<void> {
    const loaded = parseConfig(yaml, "/srv/shop/cutover.yaml", {});
    const program = new Command().exitOverride();
    registerRenderCommand(program, { config: () => loaded, output: () => new Output(json) });
    await program.parseAsync(["node", "cutover", "render", "traffic-manager", ...args]);
  }

  it("prints the template, writes it with --out, and puts the notes on stderr", async () => {
    const stdout = capture(process.stdout);
    const stderr = capture(process.stderr);
    await run(fleetYaml({ endpoints: ENDPOINTS }), []);
    expect(JSON.parse(stdout.join("")).resources[0].name).toBe(PROFILE);
    expect(stderr.join("")).toMatch(/^note: probe.interval 1s: /m);

    stdout.length = 0;
    const out = join(mkdtempSync(join(tmpdir(), "cutover-tm-")), "tm.json");
    await run(fleetYaml({ endpoints: ENDPOINTS }), ["--out", out], true);
    const answer = JSON.parse(stdout.join(""));
    expect(answer).toMatchObject({ written: out, profile: PROFILE, endpoints: 3 });
    expect(answer.notes).toHaveLength(2);
    expect(JSON.parse(readFileSync(out, "utf8")).resources[0].properties.endpoints).toHaveLength(3);
  });

  it("says what to add when cutover.yaml has no Traffic Manager front", async () => {
    const yaml = "service: shop\nversion: 1.0.0\nstart: { command: node server.js }\n";
    const failure = run(yaml, []);
    await expect(failure).rejects.toThrow(CutoverError);
    await expect(failure).rejects.toMatchObject({ code: "NO_TRAFFIC_MANAGER", exitCode: 2 });
    await expect(failure).rejects.toThrow(
      /needs `globalFront: \{ type: azure-traffic-manager, .*and regions:/,
    );
  });

  it("runs as the real CLI and writes the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-tm-cli-"));
    const config = join(dir, "cutover.yaml");
    writeFileSync(config, fleetYaml({ endpoints: ENDPOINTS, front: { routing: "weighted" } }));
    const out = join(dir, "traffic-manager.json");
    const result = await runCli({ config }, "render", "traffic-manager", "-o", out);
    expect(result.stderr).toMatch(/note: probe.interval 1s/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `wrote the Traffic Manager profile ${PROFILE} with 3 endpoints to ${out}`,
    );
    const written = JSON.parse(readFileSync(out, "utf8"));
    expect(written.resources[0].properties.trafficRoutingMethod).toBe("Weighted");
  });
});
