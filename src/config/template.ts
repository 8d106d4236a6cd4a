/** Where cutover runs the colours, as `cutover init --platform` takes it. */
export const TEMPLATE_PLATFORMS = ["local", "kubernetes"] as const;
export type TemplatePlatform = (typeof TEMPLATE_PLATFORMS)[number];

/** Optional sections `cutover init --with` adds. */
export const TEMPLATE_SECTIONS = ["database", "analysis"] as const;
export type TemplateSection = (typeof TEMPLATE_SECTIONS)[number];

/** The JSON Schema file `cutover init` writes beside cutover.yaml, which the first line points editors to. */
export const SCHEMA_FILE = "cutover.schema.json";

export interface TemplateOptions {
  readonly platform?: TemplatePlatform;
  readonly with?: readonly TemplateSection[];
  /** Where the editor finds the JSON Schema, relative to cutover.yaml; default SCHEMA_FILE. */
  readonly schema?: string;
}

/** The commented cutover.yaml that `cutover init` writes. Every field is shown with its default. */
export function configTemplate(service: string, options: TemplateOptions = {}): string {
  const platform = options.platform ?? "local";
  const sections = new Set(options.with ?? []);
  const parts = [
    header(service, platform, options.schema ?? SCHEMA_FILE),
    platform === "kubernetes" ? kubernetesStart() : localStart(),
    health(),
    platform === "kubernetes" ? kubernetesRouter(service) : localRouter(),
    deploy(),
    sections.has("database") ? database(platform) : null,
    sections.has("analysis") ? analysis(platform) : null,
    STATE,
  ];
  return parts.filter((part) => part !== null).join("\n");
}

function header(service: string, platform: TemplatePlatform, schema: string): string {
  const where = platform === "kubernetes" ? "in a Kubernetes cluster" : "on this machine";
  return `# yaml-language-server: $schema=${schema}
# cutover.yaml: how cutover runs ${service} blue-green ${where}.
# Editors complete and check this file from ${schema} (\`cutover schema > ${schema}\` refreshes it).
# Durations are written like "500ms", "2s" or "1m".
# Secrets: write \${VAR} (or \${VAR:-default}) in any value; it is read from the environment when cutover
# starts and never written to .cutover/, logs or reports. $\${ is a literal \${.

service: ${service}            # a name: lower-case letters, digits, dashes
version: 1.0.0            # the version \`cutover up\` serves before anything is deployed
replicas: 2               # replicas per colour${platform === "kubernetes" ? "\nplatform: kubernetes      # Deployments and Services instead of local processes" : ""}
`;
}

function localStart(): string {
  return `start:
  # Starts ONE replica. {version} and {port} are replaced; PORT, APP_VERSION and
  # ENVIRONMENT (blue|green) are also in its environment. A version usually names a build:
  command: "node releases/{version}/server.js"
  cwd: .                  # relative to this file
  env: {}                 # extra environment; values may use {version}, {port} and \${VAR}
  # env:
  #   API_KEY: \${API_KEY}  # read from cutover's environment, never written down
  stopGrace: 10s          # SIGTERM, then SIGKILL after this long
`;
}

function kubernetesStart(): string {
  return `start:
  # On Kubernetes the container runs its image's own command (kubernetes.image below).
  env: {}                 # extra environment of every pod; values may use {version} and {port}
  stopGrace: 10s          # the pods' terminationGracePeriodSeconds
`;
}

function health(): string {
  return `health:                   # the semantics of Kubernetes probes
  path: /health           # GET; any 2xx passes
  interval: 1s
  timeout: 1s
  successThreshold: 1     # passes in a row before a replica takes traffic (readiness)
  failureThreshold: 3     # failures in a row before it stops taking traffic
  startupGrace: 30s       # time to the first pass before the replica is restarted (startup probe)
  restartAfterFailures: 0 # failures in a row that restart a running replica (liveness); 0: never
`;
}

function localRouter(): string {
  return `router:
  listen: 127.0.0.1:8080  # users' traffic: served by the active colour
  preview: 127.0.0.1:8081 # the idle colour, for smoke checks before the switch
  admin: 127.0.0.1:8079   # the admin API and /metrics; keep it on loopback
  drainTimeout: 30s       # how long requests and WebSockets on the old colour may go on after a switch
  sticky: false           # true: each client IP keeps its replica
  # A replica that dies under a request: GET/HEAD/OPTIONS, and requests with this header, go to another one.
  # retry: { idempotencyHeader: idempotency-key, maxBodyBytes: 65536 }
`;
}

function kubernetesRouter(service: string): string {
  return `kubernetes:
  namespace: default
  # context: my-cluster     # the kubeconfig context; default: its current-context
  image: registry.example.com/${service}:{version}   # {version} is the version deployed
  containerPort: 8080       # the port the service listens on (PORT is set to it)
  resources:
    requests: { cpu: 100m, memory: 128Mi }
    # limits: { memory: 256Mi }
  service:
    type: ClusterIP         # the active Service; the preview Service is ClusterIP unless set
    port: 80
  # Confirms each switch by asking the active Service until only the new version answers:
  # switchProbe:
  #   url: http://127.0.0.1:8080/health   # reachable from where cutover runs (e.g. kubectl port-forward)
  #   versionHeader: x-app-version
  # autoscaling: { maxReplicas: 6, cpu: 70 }

router:
  preview: 127.0.0.1:8081   # where smoke checks reach the preview Service (e.g. kubectl port-forward)
`;
}

function deploy(): string {
  return `deploy:
  autoPromote: true       # true: switch when checks pass; false: wait for \`cutover promote\`; "5m": wait, then switch
  readyTimeout: 60s       # the new colour must be healthy by then, or the deploy is aborted
  scaleDownDelay: 30s     # the old colour stays warm this long, for an instant \`cutover rollback\`
  smoke: []               # checks against the preview address before the switch, for example:
  # smoke:
  #   - http: { path: /health, expectStatus: 200 }
  #   - name: api answers
  #     command: "curl -fsS $PREVIEW_URL/api/ping"   # PREVIEW_URL and VERSION are set
`;
}

function database(platform: TemplatePlatform): string {
  const url =
    platform === "kubernetes"
      ? `  # A PostgreSQL server the pods and cutover both reach; the URL (with its password) comes from the
  # environment and is never written down. The pods read it from a Secret cutover keeps.
  url: \${DATABASE_URL}`
      : `  # Without url (or DATABASE_URL), an embedded PostgreSQL (PGlite) under stateDir serves the colours.
  # url: \${DATABASE_URL}    # a PostgreSQL server; keep the password in the environment`;
  return `database:                 # migrations run by deploys: expand before the switch, contract after
  migrations: migrations  # NNNN_name.sql files, relative to this file
${url}
  schema: public
  lockTimeout: 1s         # the longest the service's queries may queue behind a migration's lock
  contract: auto          # auto: contract migrations run once the old colour has stopped; manual: \`cutover migrate contract\`
  # requires:             # the schema range each version needs, checked before start and switch
  #   "1.x": "<=0003"
  #   "2.x": ">=0002"
`;
}

function analysis(platform: TemplatePlatform): string {
  const source =
    platform === "kubernetes"
      ? `  source:
    type: scrape          # each pod's /metrics, read through the API server's pod proxy
    path: /metrics
  # source: { type: prometheus, url: http://prometheus:9090 }`
      : `  source:
    type: router          # the router's own per-colour metrics; no instrumentation needed
  # source: { type: scrape, path: /metrics }              # each replica's Prometheus metrics
  # source: { type: prometheus, url: http://127.0.0.1:9090 }`;
  const mirror =
    platform === "kubernetes"
      ? ""
      : `  mirror:
    share: 0              # share of live GET/HEAD requests copied to the new colour before the switch (0: off)
`;
  return `analysis:                 # canary analysis: compares the new colour with the old one, rolls back on failure
${source}
  interval: 5s            # one measurement per colour each interval
  window: 2m              # how long each analysis runs
  minRequests: 50         # requests a colour needs in the lookback for a measurement to count
  conditions:
    - { metric: errorRate, max: 0.01 }
    # - { metric: p99, maxRatio: 1.2 }
  preSwitch: true         # judge the new colour before the switch too
${mirror}  webhooks: []            # alerts (verdicts, rollbacks, failures), for example:
  # webhooks:
  #   - url: \${SLACK_WEBHOOK_URL}   # from the environment; never written to logs or reports
  #     format: slack
  report:
    enabled: true         # an HTML + PNG report per deploy, under stateDir/reports
`;
}

const STATE = `stateDir: .cutover        # state, history, token and logs
`;
