/**
 * A stand-in for the part of Azure Resource Manager that @azure/arm-trafficmanager calls: a real HTTPS
 * server on 127.0.0.1 with a certificate made at start (the SDK's bearer-token policy refuses plain http;
 * the client trusts the certificate through the SDK's own `tlsOptions.ca`, the same TLS path as against
 * management.azure.com, only with another trust anchor). No Azure account can be used from these machines.
 * Tests get tokens from a fake TokenCredential (a fixed string); the stand-in accepts the tokens it is
 * told to, and nothing else.
 *
 * | behaviour                                                                      | source       |
 * |--------------------------------------------------------------------------------|--------------|
 * | paths /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/       | [REST]       |
 * |   trafficmanagerprofiles/{p}[/{endpointType}/{e}]; segments and names match     | [REST] [ARM] |
 * |   case-insensitively (the SDK sends ExternalEndpoints, ids say externalEndpoints)|             |
 * | profile GET, PUT (201 created, 200 replaced); endpoint GET, PUT (201/200),       | [REST] [EX]  |
 * |   PATCH (200, merges `properties`, 404 when missing), DELETE (200 `{}`, 204 none)|             |
 * | answers: id, name, type (Microsoft.Network/trafficManagerProfiles[/externalEndpoints]),| [EX]   |
 * |   location "global", dnsConfig.fqdn, profileMonitorStatus, endpointMonitorStatus |             |
 * | defaults: interval 30 s, timeout 10 s (9 s at 10 s probing), tolerated 3;       | [MON] [EX]   |
 * |   endpoint weight 1, priority the next free one                                 |              |
 * | 400 for interval not 10/30, timeout out of 5–10 (5–9), tolerated out of 0–9,     | [MON] [REST] |
 * |   weight or priority out of 1–1000, two endpoints with one priority (Priority)  |              |
 * | api-version required: missing → 400 MissingApiVersionParameter; another than    | [ARM]        |
 * |   2022-04-01 → 400 InvalidApiVersionParameter                                   |              |
 * | no Authorization → 401 AuthenticationFailed; unknown token → 401                 | [ARM]        |
 * |   InvalidAuthenticationToken; both with a WWW-Authenticate Bearer challenge      |              |
 * | a read-only token writing → 403 AuthorizationFailed                              | [ARM]        |
 * | unknown profile or endpoint → 404 ResourceNotFound; other subscription or group  | [ARM]        |
 * |   → 404 SubscriptionNotFound / ResourceGroupNotFound; error body {error:{code,message}} | [REST] CloudError |
 * | endpointMonitorStatus from real probes of each enabled endpoint's target         | [MON], see   |
 * |                                                                                | endpoint-monitor.ts |
 *
 * [REST] Microsoft's REST reference for Microsoft.Network/trafficmanagerprofiles 2022-04-01 (the swagger in
 *   Azure/azure-rest-api-specs, specification/trafficmanager/.../stable/2022-04-01/trafficmanager.json):
 *   paths, Profile, Endpoint, EndpointProperties (weight and priority 1–1000, unique priorities), CloudError.
 * [EX] its examples: Profile-PUT-WithEndpoints, Endpoint-PATCH-External-Target, Endpoint-DELETE-External.
 * [MON] learn.microsoft.com azure/traffic-manager/traffic-manager-monitoring.
 * [ARM] Azure Resource Manager's common answers, not in the Traffic Manager reference: the codes are as
 *   public issue threads quote them (terraform-provider-azurerm#3612 for AuthenticationFailed and its
 *   message, azure-cli#25222 for ResourceNotFound's message); the wording of the others is not checked.
 * Not served: azureEndpoints and nestedEndpoints (400), profile PATCH and DELETE, list operations, DNS.
 * Every write is recorded (method, path, endpoint, body, status, time), and every endpoint read with the
 * endpointMonitorStatus it answered, so a test can check the order of what a client did.
 */
import { EventEmitter, once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { loopbackCertificate } from "../helpers/loopback-certificate.js";
import { EndpointMonitor, type MonitorStatus, type ProbeSpec } from "./endpoint-monitor.js";

export const API_VERSION = "2022-04-01";
const PROFILE_TYPE = "Microsoft.Network/trafficManagerProfiles";
const ENDPOINT_TYPE = `${PROFILE_TYPE}/externalEndpoints`;
const ROUTING = ["Performance", "Priority", "Weighted", "Geographic", "MultiValue", "Subnet"];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface TrafficManagerStandInOptions {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Bearer tokens that may read and write. */
  readonly tokens: readonly string[];
  /** Bearer tokens that may only read (a Reader role): writes get 403. */
  readonly readOnlyTokens?: readonly string[];
  /** The probing agent's interval (Traffic Manager: 10 or 30 s). Default 100 ms. */
  readonly probeIntervalMs?: number;
  /** How long a probe waits for an answer (Traffic Manager: timeoutInSeconds). Default 500 ms. */
  readonly probeTimeoutMs?: number;
}

export interface RecordedWrite {
  readonly method: string;
  readonly path: string;
  readonly endpoint: string | null;
  readonly body: Json | undefined;
  readonly status: number;
  readonly at: number;
}

export interface RecordedRead {
  readonly endpoint: string;
  readonly monitorStatus: string;
  readonly at: number;
}

export interface Transition {
  readonly endpoint: string;
  readonly status: MonitorStatus;
  readonly at: number;
}

interface EndpointRecord {
  readonly name: string;
  properties: JsonObject;
  readonly monitor: EndpointMonitor;
}

interface ProfileRecord {
  readonly name: string;
  location: string;
  properties: JsonObject;
  readonly endpoints: Map<string, EndpointRecord>;
}

class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class TrafficManagerStandIn {
  readonly #server: Server;
  readonly #o: TrafficManagerStandInOptions;
  readonly #ca: string;
  readonly #profiles = new Map<string, ProfileRecord>();
  readonly #events = new EventEmitter();
  readonly #timer: NodeJS.Timeout;
  readonly writes: RecordedWrite[] = [];
  readonly reads: RecordedRead[] = [];
  readonly transitions: Transition[] = [];

  private constructor(server: Server, ca: string, options: TrafficManagerStandInOptions) {
    this.#server = server;
    this.#ca = ca;
    this.#o = options;
    this.#timer = setInterval(() => this.#probeAll(), this.#intervalMs);
  }

  static async start(options: TrafficManagerStandInOptions): Promise<TrafficManagerStandIn> {
    const { cert, key } = await loopbackCertificate();
    const server = createServer({ key, cert });
    const standIn = new TrafficManagerStandIn(server, cert, options);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void standIn.#handle(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return standIn;
  }

  /** ARM's address (globalFront.armEndpoint). */
  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The certificate to trust (PEM). */
  get ca(): string {
    return this.#ca;
  }

  monitorStatus(profile: string, endpoint: string): MonitorStatus | undefined {
    return this.#profiles.get(profile.toLowerCase())?.endpoints.get(endpoint.toLowerCase())?.monitor.status;
  }

  /** Resolves when `endpoint` (in any profile) next reaches `status`, or at once if it is there. */
  async reached(endpoint: string, status: MonitorStatus): Promise<void> {
    for (const profile of this.#profiles.values())
      if (profile.endpoints.get(endpoint.toLowerCase())?.monitor.status === status) return;
    await new Promise<void>((resolve) => {
      const listener = (t: Transition) => {
        if (t.endpoint.toLowerCase() !== endpoint.toLowerCase() || t.status !== status) return;
        this.#events.off("transition", listener);
        resolve();
      };
      this.#events.on("transition", listener);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  get #intervalMs(): number {
    return this.#o.probeIntervalMs ?? 100;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    let body: Json | undefined;
    try {
      body = await readBody(req);
      const { status, answer } = this.#route(req, url, method, body);
      this.#recordWrite(method, url.pathname, body, status);
      send(res, status, answer);
    } catch (error) {
      const e = error instanceof ArmError ? error : new ArmError(500, "InternalServerError", String(error));
      this.#recordWrite(method, url.pathname, body, e.status);
      if (e.status === 401)
        res.setHeader(
          "www-authenticate",
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed."',
        );
      send(res, e.status, { error: { code: e.code, message: e.message } });
    }
  }

  #route(
    req: IncomingMessage,
    url: URL,
    method: string,
    body: Json | undefined,
  ): { status: number; answer?: Json } {
    this.#authorise(req, method, url.pathname);
    const version = url.searchParams.get("api-version");
    if (version === null)
      throw new ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    if (version !== API_VERSION)
      throw new ArmError(
        400,
        "InvalidApiVersionParameter",
        `The api-version '${version}' is invalid. The supported versions are '${API_VERSION}'.`,
      );
    const path = parsePath(url.pathname);
    if (path.subscription !== this.#o.subscriptionId.toLowerCase())
      throw new ArmError(
        404,
        "SubscriptionNotFound",
        `The subscription '${path.subscription}' could not be found.`,
      );
    if (path.group !== this.#o.resourceGroup.toLowerCase())
      throw new ArmError(
        404,
        "ResourceGroupNotFound",
        `Resource group '${path.rawGroup}' could not be found.`,
      );
    if (path.endpoint === null) return this.#profileCall(method, path.profile, body);
    return this.#endpointCall(method, path.profile, path.endpoint, body);
  }

  /** 401 without a known token, 403 for a read-only token that writes. */
  #authorise(req: IncomingMessage, method: string, path: string): void {
    const header = req.headers.authorization;
    if (header === undefined)
      throw new ArmError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
      );
    const token = /^Bearer (.+)$/.exec(header)?.[1] ?? "";
    if (this.#o.tokens.includes(token)) return;
    if (!(this.#o.readOnlyTokens ?? []).includes(token))
      throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    if (method === "GET") return;
    const action = path.includes("ndpoints/")
      ? "trafficManagerProfiles/externalEndpoints/write"
      : "trafficManagerProfiles/write";
    throw new ArmError(
      403,
      "AuthorizationFailed",
      `The client does not have authorization to perform action 'Microsoft.Network/${action}' over scope '${path}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }

  #profileCall(method: string, name: string, body: Json | undefined): { status: number; answer?: Json } {
    const key = name.toLowerCase();
    if (method === "GET") return { status: 200, answer: this.#profileJson(this.#profile(name)) };
    if (method !== "PUT")
      throw new ArmError(405, "MethodNotAllowed", `The stand-in does not serve ${method} on a profile.`);
    const input = asObject(body, "the profile");
    const properties = asObject(input.properties ?? {}, "properties");
    const { endpoints, ...rest } = properties;
    const existed = this.#profiles.has(key);
    const old = this.#profiles.get(key);
    old?.endpoints.clear();
    const profile: ProfileRecord = {
      name: old?.name ?? name,
      location: String(input.location ?? "global"),
      properties: withMonitorDefaults({ profileStatus: "Enabled", ...rest }),
      endpoints: new Map(),
    };
    validateProfile(profile.properties);
    this.#profiles.set(key, profile);
    for (const e of Array.isArray(endpoints) ? endpoints : []) {
      const entry = asObject(e, "an endpoint");
      this.#putEndpoint(profile, String(entry.name ?? ""), asObject(entry.properties ?? {}, "properties"));
    }
    return { status: existed ? 200 : 201, answer: this.#profileJson(profile) };
  }

  #endpointCall(
    method: string,
    profileName: string,
    name: string,
    body: Json | undefined,
  ): { status: number; answer?: Json } {
    const profile = this.#profile(profileName);
    const existing = profile.endpoints.get(name.toLowerCase());
    if (method === "DELETE") {
      if (!existing) return { status: 204 };
      profile.endpoints.delete(name.toLowerCase());
      return { status: 200, answer: {} };
    }
    if (method === "PUT") {
      const input = asObject(body, "the endpoint");
      const record = this.#putEndpoint(profile, name, asObject(input.properties ?? {}, "properties"));
      return { status: existing ? 200 : 201, answer: this.#endpointJson(profile, record) };
    }
    if (!existing)
      throw new ArmError(
        404,
        "ResourceNotFound",
        `The Resource '${PROFILE_TYPE}/${profile.name}/externalEndpoints/${name}' under resource group '${this.#o.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    if (method === "GET") {
      const answer = this.#endpointJson(profile, existing);
      this.reads.push({ endpoint: existing.name, monitorStatus: existing.monitor.status, at: Date.now() });
      return { status: 200, answer };
    }
    if (method !== "PATCH")
      throw new ArmError(405, "MethodNotAllowed", `The stand-in does not serve ${method} on an endpoint.`);
    const patch = asObject(asObject(body, "the endpoint").properties ?? {}, "properties");
    const merged = { ...existing.properties, ...patch };
    delete merged.endpointMonitorStatus;
    validateEndpoint(profile, existing.name, merged);
    const before = existing.properties;
    existing.properties = merged;
    // [EX] Endpoint-PATCH-External-Target: a new target reads CheckingEndpoint again; so does enabling.
    const enabledNow = merged.endpointStatus !== "Disabled";
    if ((before.endpointStatus !== "Disabled") !== enabledNow || before.target !== merged.target)
      this.#resetMonitor(profile, existing);
    return { status: 200, answer: this.#endpointJson(profile, existing) };
  }

  #putEndpoint(profile: ProfileRecord, name: string, input: JsonObject): EndpointRecord {
    const { endpointMonitorStatus: _readOnly, ...given } = input;
    const taken = [...profile.endpoints.values()].map((e) => Number(e.properties.priority ?? 0));
    const properties: JsonObject = {
      endpointStatus: "Enabled",
      weight: 1,
      priority: Math.max(0, ...taken) + 1,
      ...given,
    };
    if (typeof properties.target !== "string" || properties.target === "")
      throw new ArmError(
        400,
        "BadRequest",
        `The endpoint '${name}' needs a target (a DNS name or IP address).`,
      );
    validateEndpoint(profile, name, properties);
    const old = profile.endpoints.get(name.toLowerCase());
    const record: EndpointRecord = {
      name: old?.name ?? name,
      properties,
      monitor:
        old?.monitor ?? new EndpointMonitor("CheckingEndpoint", (status) => this.#transition(name, status)),
    };
    profile.endpoints.set(name.toLowerCase(), record);
    this.#resetMonitor(profile, record);
    return record;
  }

  #resetMonitor(profile: ProfileRecord, endpoint: EndpointRecord): void {
    const status: MonitorStatus =
      endpoint.properties.endpointStatus === "Disabled"
        ? "Disabled"
        : profile.properties.profileStatus === "Disabled"
          ? "Inactive"
          : "CheckingEndpoint";
    endpoint.monitor.reset(status, this.#intervalMs);
  }

  #transition(endpoint: string, status: MonitorStatus): void {
    const t = { endpoint, status, at: Date.now() };
    this.transitions.push(t);
    this.#events.emit("transition", t);
  }

  #probeAll(): void {
    for (const profile of this.#profiles.values()) {
      const monitor = asObject(profile.properties.monitorConfig ?? {}, "monitorConfig");
      for (const endpoint of profile.endpoints.values())
        void endpoint.monitor.probe(probeSpec(monitor, endpoint.properties), this.#o.probeTimeoutMs ?? 500);
    }
  }

  #profile(name: string): ProfileRecord {
    const profile = this.#profiles.get(name.toLowerCase());
    if (profile) return profile;
    throw new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${PROFILE_TYPE}/${name}' under resource group '${this.#o.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }

  #recordWrite(method: string, path: string, body: Json | undefined, status: number): void {
    if (method === "GET") return;
    const endpoint = /\/[a-z]+endpoints\/([^/]+)$/i.exec(path)?.[1];
    this.writes.push({
      method,
      path,
      endpoint: endpoint === undefined ? null : decodeURIComponent(endpoint),
      body,
      status,
      at: Date.now(),
    });
  }

  #resourceId(profile: ProfileRecord): string {
    return `/subscriptions/${this.#o.subscriptionId}/resourceGroups/${this.#o.resourceGroup}/providers/${PROFILE_TYPE}/${profile.name}`;
  }

  #endpointJson(profile: ProfileRecord, e: EndpointRecord): JsonObject {
    return {
      id: `${this.#resourceId(profile)}/externalEndpoints/${e.name}`,
      name: e.name,
      type: ENDPOINT_TYPE,
      properties: { ...e.properties, endpointMonitorStatus: e.monitor.status },
    };
  }

  #profileJson(profile: ProfileRecord): JsonObject {
    const endpoints = [...profile.endpoints.values()];
    const dnsConfig = asObject(profile.properties.dnsConfig ?? {}, "dnsConfig");
    const monitorConfig = asObject(profile.properties.monitorConfig ?? {}, "monitorConfig");
    return {
      id: this.#resourceId(profile),
      name: profile.name,
      type: PROFILE_TYPE,
      location: profile.location,
      properties: {
        ...profile.properties,
        dnsConfig: {
          ...dnsConfig,
          fqdn: `${String(dnsConfig.relativeName ?? profile.name)}.trafficmanager.net`,
        },
        monitorConfig: { ...monitorConfig, profileMonitorStatus: profileMonitorStatus(profile) },
        endpoints: endpoints.map((e) => this.#endpointJson(profile, e)),
      },
    };
  }
}

/** [MON] "Profile monitor status". */
function profileMonitorStatus(profile: ProfileRecord): string {
  if (profile.properties.profileStatus === "Disabled") return "Disabled";
  const statuses = [...profile.endpoints.values()].map((e) => e.monitor.status);
  if (statuses.includes("Degraded")) return "Degraded";
  if (statuses.includes("Online")) return "Online";
  if (statuses.includes("CheckingEndpoint")) return "CheckingEndpoints";
  return "Inactive";
}

function probeSpec(monitor: JsonObject, endpoint: JsonObject): ProbeSpec {
  const headers: Record<string, string> = {};
  for (const list of [monitor.customHeaders, endpoint.customHeaders])
    for (const h of Array.isArray(list) ? list : []) {
      const item = asObject(h, "a custom header");
      headers[String(item.name)] = String(item.value);
    }
  const ranges = Array.isArray(monitor.expectedStatusCodeRanges) ? monitor.expectedStatusCodeRanges : [];
  const expected = ranges.map((r) => ({
    min: Number(asObject(r, "a range").min),
    max: Number(asObject(r, "a range").max),
  }));
  return {
    protocol: String(monitor.protocol ?? "HTTP"),
    target: String(endpoint.target),
    port: Number(monitor.port ?? 80),
    path: String(monitor.path ?? "/"),
    headers,
    expected: expected.length > 0 ? expected : [{ min: 200, max: 200 }],
    tolerated: Number(monitor.toleratedNumberOfFailures ?? 3),
  };
}

/** [MON] "Configure endpoint monitoring": the defaults. */
function withMonitorDefaults(properties: JsonObject): JsonObject {
  const given = asObject(properties.monitorConfig ?? {}, "monitorConfig");
  const interval = Number(given.intervalInSeconds ?? 30);
  return {
    ...properties,
    monitorConfig: {
      intervalInSeconds: interval,
      timeoutInSeconds: interval === 10 ? 9 : 10,
      toleratedNumberOfFailures: 3,
      ...given,
    },
  };
}

function validateProfile(properties: JsonObject): void {
  const routing = String(properties.trafficRoutingMethod ?? "");
  if (!ROUTING.includes(routing))
    throw new ArmError(
      400,
      "BadRequest",
      `The traffic routing method '${routing}' is not one of ${ROUTING.join(", ")}.`,
    );
  const m = asObject(properties.monitorConfig ?? {}, "monitorConfig");
  const interval = Number(m.intervalInSeconds);
  if (interval !== 10 && interval !== 30)
    throw new ArmError(400, "BadRequest", "The monitor interval must be 10 or 30 seconds.");
  const maxTimeout = interval === 10 ? 9 : 10;
  const timeout = Number(m.timeoutInSeconds);
  if (!(timeout >= 5 && timeout <= maxTimeout))
    throw new ArmError(
      400,
      "BadRequest",
      `With a ${interval} s interval the timeout must be 5 to ${maxTimeout} seconds.`,
    );
  const tolerated = Number(m.toleratedNumberOfFailures);
  if (!(Number.isInteger(tolerated) && tolerated >= 0 && tolerated <= 9))
    throw new ArmError(400, "BadRequest", "The tolerated number of failures must be 0 to 9.");
  if (String(m.protocol ?? "HTTP").toUpperCase() !== "TCP" && typeof m.path !== "string")
    throw new ArmError(400, "BadRequest", "A monitor path is required for the HTTP and HTTPS protocols.");
}

function validateEndpoint(profile: ProfileRecord, name: string, properties: JsonObject): void {
  for (const field of ["weight", "priority"] as const) {
    const value = Number(properties[field]);
    if (!(Number.isInteger(value) && value >= 1 && value <= 1000))
      throw new ArmError(
        400,
        "BadRequest",
        `The endpoint '${name}' has ${field} ${properties[field]}; it must be 1 to 1000.`,
      );
  }
  if (profile.properties.trafficRoutingMethod !== "Priority") return;
  for (const other of profile.endpoints.values())
    if (other.name.toLowerCase() !== name.toLowerCase() && other.properties.priority === properties.priority)
      throw new ArmError(
        400,
        "BadRequest",
        `The endpoints '${other.name}' and '${name}' have the same priority ${properties.priority}.`,
      );
}

interface ParsedPath {
  readonly subscription: string;
  readonly group: string;
  readonly rawGroup: string;
  readonly profile: string;
  readonly endpoint: string | null;
}

const PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/trafficmanagerprofiles\/([^/]+)(?:\/([a-z]+Endpoints)\/([^/]+))?$/i;

function parsePath(pathname: string): ParsedPath {
  const m = PATH.exec(pathname);
  if (!m) throw new ArmError(404, "NotFound", `The stand-in does not serve ${pathname}.`);
  const [, subscription = "", group = "", profile = "", type, endpoint] = m;
  if (type !== undefined && type.toLowerCase() !== "externalendpoints")
    throw new ArmError(400, "BadRequest", `The stand-in serves externalEndpoints only, not ${type}.`);
  return {
    subscription: decodeURIComponent(subscription).toLowerCase(),
    group: decodeURIComponent(group).toLowerCase(),
    rawGroup: decodeURIComponent(group),
    profile: decodeURIComponent(profile),
    endpoint: endpoint === undefined ? null : decodeURIComponent(endpoint),
  };
}

async function readBody(req: IncomingMessage): Promise<Json | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new ArmError(
      400,
      "InvalidRequestContent",
      "The request content was invalid and could not be deserialized.",
    );
  }
}

function asObject(value: Json | undefined, what: string): JsonObject {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  throw new ArmError(400, "InvalidRequestContent", `${what} must be a JSON object.`);
}

function send(res: ServerResponse, status: number, body?: Json): void {
  res.statusCode = status;
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}
