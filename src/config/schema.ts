import { z } from "zod";
import { parseDuration } from "../duration.js";
import { logsSchema } from "../log-settings.js";
import { acmeSchema, checkTls } from "./acme-schema.js";
import { address, optionalAddress } from "./address.js";
import { analysisSchema } from "./analysis-schema.js";
import { certificateFilesSchema } from "./certificate-files-schema.js";
import { databaseSchema } from "./database-schema.js";
import { dnsLabel } from "./dns-label.js";
import { duration, optionalDuration } from "./duration-field.js";
import { fleetSchema, globalFrontSchema, regionSchema, waveSchema } from "./fleet-schema.js";
import { kubernetesSchema, platformSchema } from "./kubernetes-schema.js";

// A config is parsed once or twice per process: zod's compiled fast path (new Function per object schema) costs
// more to build than it saves here (measured: 45-68 ms against 21-27 ms for a whole cutover.yaml).
z.config({ jitless: true });

export { type Address, parseAddress } from "./address.js";

const name = dnsLabel;

export const startSchema = z
  .strictObject({
    command: z.string().min(1, "expected the command that starts one replica").optional().meta({
      description:
        "Shell command that starts one replica. {version} and {port} are replaced; PORT, APP_VERSION and ENVIRONMENT are also set in its environment. Required, except with platform: kubernetes (the image's own command runs there).",
    }),
    cwd: z.string().default(".").meta({ description: "Working directory, relative to cutover.yaml." }),
    env: z
      .record(z.string(), z.string())
      .default({})
      .meta({ description: "Extra environment variables; values may use {version} and {port}." }),
    stopGrace: duration("10s").meta({
      description: "How long a replica may take to exit after SIGTERM before SIGKILL.",
    }),
  })
  .meta({ description: "How to start a version of the service." });

export const healthSchema = z
  .strictObject({
    path: z.string().startsWith("/", "expected a path starting with /").default("/health"),
    grpc: z
      .strictObject({
        service: z.string().default("").meta({
          description: 'The service name asked about; "" (the default) asks about the server as a whole.',
        }),
      })
      .optional()
      .meta({
        description:
          "Check with the standard gRPC health service (grpc.health.v1.Health/Check over h2c on the replica's port) instead of GET health.path: SERVING passes, anything else fails. On Kubernetes a native grpc probe (1.24+).",
      }),
    interval: duration("1s").meta({ description: "Time between checks of one replica." }),
    timeout: duration("1s").meta({ description: "A check that takes longer fails." }),
    successThreshold: z
      .int()
      .min(1)
      .default(1)
      .meta({ description: "Consecutive passes before a replica enters rotation (readiness)." }),
    failureThreshold: z
      .int()
      .min(1)
      .default(3)
      .meta({ description: "Consecutive failures before a replica leaves rotation (readiness)." }),
    startupGrace: duration("30s").meta({
      description:
        "How long a new replica may take to pass its first check before it is restarted (startup probe).",
    }),
    restartAfterFailures: z.int().min(0).default(0).meta({
      description:
        "Consecutive failures after which a running replica is restarted (liveness); 0 never restarts.",
    }),
  })
  .prefault({})
  .meta({ description: "Health check of each replica, with the semantics of Kubernetes probes." });

export const routerSchema = z
  .strictObject({
    listen: address("127.0.0.1:8080").meta({
      description: "Where users' traffic arrives; served by the active colour.",
    }),
    preview: address("127.0.0.1:8081").meta({
      description: "Serves the idle colour, for smoke checks and people.",
    }),
    admin: address("127.0.0.1:8079").meta({ description: "Admin API and metrics; keep it on loopback." }),
    drainTimeout: duration("30s").meta({
      description: "How long requests and WebSockets in flight on the old colour may run on after a switch.",
    }),
    sticky: z.boolean().default(false).meta({ description: "Send each client IP to the same replica." }),
    retry: z
      .strictObject({
        idempotencyHeader: z
          .union([
            z
              .string()
              .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name")
              .transform((name) => name.toLowerCase()),
            z.literal(false),
          ])
          .default("idempotency-key")
          .meta({
            description:
              "A request carrying this header is sent once more to another replica when its connection broke, whatever its method (its body is kept, up to maxBodyBytes); false: only GET, HEAD and OPTIONS are. Other requests are never sent twice; they are counted in cutover_upstream_failures_total.",
          }),
        maxBodyBytes: z
          .int()
          .min(0)
          .max(16 * 1024 * 1024)
          .default(64 * 1024)
          .meta({ description: "The largest body of a marked request kept to be sent again (bytes)." }),
      })
      .prefault({})
      .meta({ description: "Retries by the built-in router of requests whose replica died under them." }),
    tls: z
      .strictObject({
        certificates: certificateFilesSchema("cutover.yaml").optional().meta({
          description:
            "One pair per certificate; each serves the host names its certificate names (SNI), the first also clients that name none. The files are watched and reloaded without dropping a connection. Optional with acme.",
        }),
        acme: acmeSchema.optional(),
        redirectHttp: optionalAddress().meta({
          description:
            "A plain HTTP listener (e.g. 0.0.0.0:80) that answers every request with a 308 redirect to https:// on router.listen (and, with acme, the CA's http-01 challenge). Required with acme.",
        }),
      })
      .superRefine(checkTls)
      .optional()
      .meta({ description: "HTTPS on router.listen (TLS 1.2 and 1.3 only, no weak ciphers)." }),
    previewAccess: z
      .strictObject({
        header: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name")
          .transform((name) => name.toLowerCase())
          .default("x-cutover-preview"),
        cookie: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/, "expected a cookie name (letters, digits, _ and -)")
          .default("cutover-preview"),
        secret: z.string().min(16, "expected at least 16 characters").optional().meta({
          description:
            "Left out: a random one, made once and kept in .cutover/preview-secret (`cutover preview` shows it).",
        }),
      })
      .optional()
      .meta({
        description:
          "Requests on router.listen carrying the secret in this header or cookie reach the idle colour (never without it). `cutover preview` prints a link that sets the cookie.",
      }),
    orphanTimeout: optionalDuration().meta({
      description:
        "The router and the replicas run in a process of their own that keeps serving while the daemon is away (a crash, a restart, an upgrade). With this set, they stop once no daemon has been attached for this long; left out: they serve on until `cutover down`.",
    }),
    upstreamProtocol: z.enum(["http1", "h2c"]).default("http1").meta({
      description:
        "How the built-in router speaks to the replicas: http1 (HTTP/1.1), or h2c (HTTP/2 cleartext, prior knowledge), which gRPC services need; gRPC clients reach the router over HTTP/2, so with router.tls. Under h2c, router.retry.maxBodyBytes has no effect (a request body is never kept for a retry).",
    }),
    warmConnections: z.int().min(0).max(64).default(0).meta({
      description:
        "Idle connections the built-in router keeps open to each replica of both colours, so that the first requests after a switch (or to a new replica) do not wait for connection set-up. 0 (default): none. Leave it at 0 for a service whose server gives a whole worker to each open connection (gunicorn's sync workers, PHP's built-in server): every warm connection would hold one.",
    }),
    workers: z
      .union([z.int().min(1).max(64), z.literal("auto")])
      .default(1)
      .meta({
        description:
          "Processes the built-in router runs in, sharing its listeners (node:cluster): 1 (default), a number, or auto (one per CPU). A switch returns once every one of them has switched. Not with router.tls.acme (certificates are ordered by one process) nor with dataPlane: haproxy (set router.haproxy.threads).",
      }),
    dataPlane: z.enum(["builtin", "haproxy"]).default("builtin").meta({
      description:
        "builtin: cutover's own proxy; haproxy: a HAProxy driven through its runtime API (no reloads).",
    }),
    haproxy: z
      .strictObject({
        socket: z.string().optional().meta({
          description:
            "Admin socket of a HAProxy that already runs (with `cutover haproxy-config` loaded); omitted: cutover starts one.",
        }),
        binary: z.string().default("haproxy"),
        threads: z.int().min(1).max(64).optional(),
        slots: z
          .int()
          .min(1)
          .max(1024)
          .optional()
          .meta({ description: "Server slots per colour; default 2 x replicas." }),
        prefix: z
          .string()
          .regex(/^[a-z][a-z0-9_-]*$/)
          .optional()
          .meta({ description: "Names in HAProxy; default the service." }),
      })
      .prefault({}),
  })
  .superRefine(checkRouterWorkers)
  .prefault({});

/** router.workers above 1 asks for what the built-in router alone does, without ACME (one process orders). */
function checkRouterWorkers(
  router: { workers: number | "auto"; dataPlane: string; tls?: { acme?: unknown } | undefined },
  ctx: z.RefinementCtx,
): void {
  if (router.workers === 1) return;
  if (router.dataPlane === "haproxy")
    ctx.addIssue({
      code: "custom",
      path: ["workers"],
      message:
        "applies to the built-in router only; with dataPlane: haproxy, set router.haproxy.threads instead (and leave workers out)",
    });
  if (router.tls?.acme !== undefined)
    ctx.addIssue({
      code: "custom",
      path: ["workers"],
      message:
        "cannot be used with router.tls.acme yet: one process orders and renews the certificates; leave workers out, or give the certificates as files in router.tls.certificates",
    });
}

const smokeHttp = z.strictObject({
  name: z.string().optional(),
  http: z.strictObject({
    path: z.string().startsWith("/", "expected a path starting with /"),
    method: z.enum(["GET", "HEAD", "POST"]).default("GET"),
    expectStatus: z.int().min(100).max(599).default(200),
    bodyContains: z.string().optional(),
    timeout: duration("5s"),
  }),
});
const smokeCommand = z.strictObject({
  name: z.string().optional(),
  command: z
    .string()
    .min(1)
    .meta({ description: "Shell command; exit 0 passes. PREVIEW_URL and VERSION are in its environment." }),
  timeout: duration("30s"),
});
export const smokeCheckSchema = z.union([smokeHttp, smokeCommand]);

const autoPromote = z
  .union([z.boolean(), z.string(), z.number()])
  .default(true)
  .transform((value, ctx): AutoPromote => {
    if (typeof value === "boolean") return value ? { mode: "on" } : { mode: "off" };
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: 'expected true, false, or a delay such as "30s"' });
      return z.NEVER;
    }
    return { mode: "after", delayMs: ms };
  })
  .meta({
    description:
      "true: switch as soon as checks pass; false: pause for `cutover promote`; a duration: pause, then switch.",
  });

export type AutoPromote = { mode: "on" } | { mode: "off" } | { mode: "after"; delayMs: number };

export const deploySchema = z
  .strictObject({
    autoPromote,
    readyTimeout: duration("60s").meta({
      description: "How long the new colour may take to become healthy before the deploy is aborted.",
    }),
    scaleDownDelay: duration("30s").meta({
      description: "How long the old colour stays warm after a switch, for an instant rollback.",
    }),
    smoke: z
      .array(smokeCheckSchema)
      .default([])
      .meta({ description: "Checks run against the preview address." }),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    service: name.meta({ description: "The service's name." }),
    version: z
      .string()
      .min(1)
      .meta({ description: "The version `cutover up` serves when nothing has been deployed yet." }),
    platform: platformSchema,
    replicas: z.int().min(1).max(64).default(2).meta({ description: "Replicas per colour." }),
    start: startSchema.prefault({}),
    health: healthSchema,
    router: routerSchema,
    deploy: deploySchema,
    database: databaseSchema,
    analysis: analysisSchema,
    kubernetes: kubernetesSchema,
    logs: logsSchema,
    regions: z.array(regionSchema).min(1).optional().meta({
      description:
        "The regions of a fleet, each with its own cutover (an admin API) or Kubernetes cluster; leave out for one region.",
    }),
    waves: z.array(waveSchema).min(1).optional().meta({
      description:
        "The order a fleet deploys in, e.g. [[westeurope], [eastus, westus]]; default: one region at a time, as listed.",
    }),
    fleet: fleetSchema,
    globalFront: globalFrontSchema.optional(),
    stateDir: z
      .string()
      .default(".cutover")
      .meta({ description: "State, history, logs; relative to cutover.yaml." }),
  })
  .superRefine(
    (config, ctx) => {
      // Run beside the other problems (`when`), so a config with several wrong fields hears of all at once.
      const start: unknown = config?.start;
      const command =
        typeof start === "object" && start !== null ? (start as { command?: unknown }).command : "";
      // A fleet of local regions runs no replica here: each region's own cutover.yaml says how to start one.
      const fleetOfDaemons = Array.isArray(config?.regions);
      if (config?.platform !== "kubernetes" && command === undefined && !fleetOfDaemons)
        ctx.addIssue({
          code: "custom",
          path: ["start", "command"],
          message:
            'is required: the shell command that starts one replica, such as "node server.js --port {port}" (only platform: kubernetes runs without one)',
        });
    },
    { when: () => true },
  )
  .meta({
    title: "cutover.yaml",
    description: "Configuration of one service deployed blue-green by cutover.",
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SmokeCheck = z.output<typeof smokeCheckSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
export type RouterConfig = z.output<typeof routerSchema>;
export type StartConfig = z.output<typeof startSchema>;

export function configJsonSchema(): unknown {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  // What the refinement above checks, said in JSON Schema for editors: start.command unless on Kubernetes.
  return {
    ...schema,
    if: { properties: { platform: { const: "kubernetes" } }, required: ["platform"] },
    else: { required: ["start"], properties: { start: { required: ["command"] } } },
  };
}
