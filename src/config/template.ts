/** The commented cutover.yaml that `cutover init` writes. Every field is shown with its default. */
export function configTemplate(service: string): string {
  return `# cutover.yaml: how cutover runs ${service} blue-green on this machine.
# Editors complete this file from the schema: \`cutover schema > cutover.schema.json\`.
# Durations are written like "500ms", "2s" or "1m".

service: ${service}            # a name: lower-case letters, digits, dashes
version: 1.0.0            # the version \`cutover up\` serves before anything is deployed
replicas: 2               # replicas per colour

start:
  # Starts ONE replica. {version} and {port} are replaced; PORT, APP_VERSION and
  # ENVIRONMENT (blue|green) are also in its environment. A version usually names a build:
  command: "node releases/{version}/server.js"
  cwd: .                  # relative to this file
  env: {}                 # extra environment; values may use {version} and {port}
  stopGrace: 10s          # SIGTERM, then SIGKILL after this long

health:                   # the semantics of Kubernetes probes
  path: /health           # GET; any 2xx passes
  interval: 1s
  timeout: 1s
  successThreshold: 1     # passes in a row before a replica takes traffic (readiness)
  failureThreshold: 3     # failures in a row before it stops taking traffic
  startupGrace: 30s       # time to the first pass before the replica is restarted (startup probe)
  restartAfterFailures: 0 # failures in a row that restart a running replica (liveness); 0: never

router:
  listen: 127.0.0.1:8080  # users' traffic: served by the active colour
  preview: 127.0.0.1:8081 # the idle colour, for smoke checks before the switch
  admin: 127.0.0.1:8079   # the admin API and /metrics; keep it on loopback
  drainTimeout: 30s       # how long requests and WebSockets on the old colour may go on after a switch
  sticky: false           # true: each client IP keeps its replica

deploy:
  autoPromote: true       # true: switch when checks pass; false: wait for \`cutover promote\`; "5m": wait, then switch
  readyTimeout: 60s       # the new colour must be healthy by then, or the deploy is aborted
  scaleDownDelay: 30s     # the old colour stays warm this long, for an instant \`cutover rollback\`
  smoke: []               # checks against the preview address before the switch, for example:
  # smoke:
  #   - http: { path: /health, expectStatus: 200 }
  #   - name: api answers
  #     command: "curl -fsS $PREVIEW_URL/api/ping"   # PREVIEW_URL and VERSION are set

stateDir: .cutover        # state, history, token and logs
`;
}
