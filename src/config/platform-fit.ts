import type { Config } from "./schema.js";

/** The YAML as written, before defaults: only what the user wrote can be refused. */
type Raw = Readonly<Record<string, unknown>>;

const written = (raw: Raw, section: string): Raw | null => {
  const value = raw[section];
  return typeof value === "object" && value !== null ? (value as Raw) : null;
};

/** Router fields that only the local platform's data plane reads. */
const LOCAL_ROUTER_FIELDS = [
  "listen",
  "admin",
  "drainTimeout",
  "sticky",
  "retry",
  "dataPlane",
  "haproxy",
  "orphanTimeout",
  "tls",
  "previewAccess",
  "upstreamProtocol",
  "warmConnections",
] as const;

/**
 * The sections and fields of cutover.yaml that the chosen platform cannot honour, each with why and what to
 * write instead. A config that passes here has no section accepted and ignored: every field it sets takes
 * effect on its platform (the section test in test/compose shows it, field by field).
 */
export function platformMisfits(raw: Raw, config: Config): string[] {
  const own = config.platform === "kubernetes" ? kubernetesMisfits(raw, config) : localMisfits(raw, config);
  return [...own, ...sharedMisfits(raw, config)];
}

/** What no platform honours, whichever runs it. */
function sharedMisfits(raw: Raw, config: Config): string[] {
  const problems: string[] = [];
  if (config.health.grpc && written(raw, "health")?.path !== undefined)
    problems.push(
      "health.path: a replica is checked either by GET health.path or by gRPC (health.grpc), not both; leave one out",
    );
  if (config.kubernetes?.gatekeeper && !config.kubernetes.readinessGate)
    problems.push(
      "kubernetes.gatekeeper: opens readiness gates, so it needs kubernetes.readinessGate: true; set that, or leave kubernetes.gatekeeper out",
    );
  if (config.database) {
    const given = [
      ...("DATABASE_URL" in config.start.env ? ["start.env"] : []),
      ...((config.kubernetes?.env ?? []).some((e) => e.name === "DATABASE_URL") ? ["kubernetes.env"] : []),
    ];
    for (const where of given)
      problems.push(
        `${where}: DATABASE_URL is what cutover gives each colour from database.url (with that colour's schema); leave it out of ${where} (on Kubernetes, kubernetes.database.secret names the Secret the pods read it from)`,
      );
  }
  return problems;
}

function kubernetesMisfits(raw: Raw, config: Config): string[] {
  const problems: string[] = [];
  if (!config.kubernetes)
    problems.push(
      "kubernetes: is required with platform: kubernetes; add at least kubernetes.image (e.g. registry.example.com/shop:{version}); `cutover init` writes an example",
    );
  const start = written(raw, "start");
  for (const field of ["command", "cwd"] as const)
    if (start?.[field] !== undefined)
      problems.push(
        `start.${field}: on Kubernetes the container runs its image's own command (kubernetes.image); leave start.${field} out (start.env and start.stopGrace do apply)`,
      );
  const router = written(raw, "router");
  for (const field of LOCAL_ROUTER_FIELDS)
    if (router?.[field] !== undefined)
      problems.push(
        `router.${field}: the built-in router runs only with platform: local; on Kubernetes traffic goes through the Services (see kubernetes.service), so leave router.${field} out`,
      );
  const analysis = config.analysis;
  if (analysis?.source.type === "router")
    problems.push(
      "analysis.source: type router reads the built-in router's metrics, which only platform: local has; use type scrape (each pod's metrics, read through the API server's pod proxy) or type prometheus",
    );
  if (analysis && analysis.mirror.share > 0)
    problems.push(
      "analysis.mirror: shadow traffic needs the built-in router (platform: local); on Kubernetes leave analysis.mirror out (the pre-switch judge reads what reaches the preview Service)",
    );
  const database = written(raw, "database");
  if (database?.embedded !== undefined)
    problems.push(
      "database.embedded: the embedded database lives in the cutover process, which pods in a cluster cannot reach; set database.url to a PostgreSQL server instead",
    );
  else if (config.database && config.database.url === undefined && !process.env.DATABASE_URL)
    problems.push(
      "database.url: is required on Kubernetes (pods cannot reach the embedded database of the cutover process); set database.url or DATABASE_URL to a PostgreSQL server",
    );
  if (config.database?.sync === "logical")
    problems.push(
      "database.sync: logical holds requests at the router during the database switchover, which the Kubernetes Services cannot do; on Kubernetes leave database.sync out (both colours share database.url)",
    );
  if (raw.logs !== undefined)
    problems.push(
      "logs: rotates .cutover/daemon.log and the replicas' log files, which only platform: local writes; on Kubernetes the pods' logs are the cluster's (kubectl logs), so leave logs out",
    );
  return problems;
}

function localMisfits(raw: Raw, config: Config): string[] {
  const problems: string[] = [];
  const router = written(raw, "router");
  if (router?.haproxy !== undefined && config.router.dataPlane !== "haproxy")
    problems.push(
      "router.haproxy: is read only with router.dataPlane: haproxy; set dataPlane: haproxy, or leave router.haproxy out",
    );
  if (router?.previewAccess !== undefined && config.router.dataPlane !== "builtin")
    problems.push(
      "router.previewAccess: is read only by the built-in router; use router.dataPlane: builtin, or reach the idle colour on router.preview",
    );
  if (router?.tls !== undefined && config.router.dataPlane !== "builtin")
    problems.push(
      "router.tls: is read only by the built-in router; with HAProxy, put the certificate in its own config (bind ... ssl crt), or use router.dataPlane: builtin",
    );
  if (router?.warmConnections !== undefined && config.router.dataPlane !== "builtin")
    problems.push(
      "router.warmConnections: is read only by the built-in router (HAProxy opens its connections itself); use router.dataPlane: builtin, or leave router.warmConnections out",
    );
  if (config.router.warmConnections > 0 && config.router.upstreamProtocol === "h2c")
    problems.push(
      "router.warmConnections: h2c replicas are spoken to over one HTTP/2 connection each, which warm connections do not feed; leave router.warmConnections out, or use router.upstreamProtocol: http1",
    );
  if (config.router.upstreamProtocol === "h2c" && config.router.dataPlane !== "builtin")
    problems.push(
      "router.upstreamProtocol: h2c is spoken only by the built-in router (the HAProxy data plane here speaks HTTP/1.1 to the replicas); use router.dataPlane: builtin, or leave router.upstreamProtocol out",
    );
  if (config.router.upstreamProtocol === "h2c" && config.analysis && config.analysis.mirror.share > 0)
    problems.push(
      "analysis.mirror: shadow copies are sent over HTTP/1.1, which h2c replicas do not speak; set mirror.share to 0 or leave analysis.mirror out (or use router.upstreamProtocol: http1)",
    );
  if (router?.retry !== undefined && config.router.dataPlane !== "builtin")
    problems.push(
      "router.retry: is read only by the built-in router; HAProxy retries refused connections only (retries 1, option redispatch), so use router.dataPlane: builtin, or leave router.retry out",
    );
  if (config.database?.sync === "logical" && config.router.dataPlane !== "builtin")
    problems.push(
      "database.sync: logical holds requests at the router while green's database catches up, which only the built-in router can do (HAProxy cannot hold a request and send it, in order, to the colour chosen later); use router.dataPlane: builtin, or leave database.sync out",
    );
  if (config.analysis && config.analysis.mirror.share > 0 && config.router.dataPlane !== "builtin")
    problems.push(
      "analysis.mirror: shadow traffic needs the built-in router (router.dataPlane: builtin); HAProxy does not mirror here, so set mirror.share to 0 or leave analysis.mirror out",
    );
  return problems;
}
