import { z } from "zod";
import { acmeSchema } from "../config/acme-schema.js";
import { address, optionalAddress } from "../config/address.js";
import { certificateFilesSchema } from "../config/certificate-files-schema.js";
import { dnsLabel } from "../config/dns-label.js";
import { duration } from "../config/duration-field.js";

/** A host name, a `*.` wildcard before one, or `*` alone (any host no other entry names). */
const HOST_PATTERN =
  /^(?:\*|(?:\*\.)?(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$/;

const hostPattern = z
  .string()
  // Host names are matched without regard to case, and "example.com." is "example.com".
  .transform((host) => host.trim().toLowerCase().replace(/\.$/, ""))
  .refine((host) => HOST_PATTERN.test(host), {
    message:
      'expected a host name such as shop.example.com, a wildcard such as "*.example.com", or "*" for any host (no port, no scheme)',
  });

const pathPrefix = z
  .string()
  .regex(/^\/[^\s?#]*$/, "expected a path starting with / (no query, no spaces), such as /api")
  // "/api/" and "/api" are the same prefix: it matches /api, /api/ and /api/anything, never /apiary.
  .transform((prefix) => (prefix === "/" ? "/" : prefix.replace(/\/+$/, "")))
  .default("/");

export const edgeServiceSchema = z
  .strictObject({
    name: dnsLabel.optional().meta({
      description:
        "The service's name in logs, metrics and the x-cutover-service header. Default: the service: of its cutover.yaml (required with upstream:).",
    }),
    config: z.string().min(1).optional().meta({
      description:
        "The service's cutover.yaml (relative to this file): the edge sends its requests to that file's router.listen.",
    }),
    upstream: optionalAddress().meta({
      description:
        'Where the service\'s router listens, "host:port", instead of reading it from config: (one of the two).',
    }),
    hosts: z.array(hostPattern).min(1, "expected at least one host, such as [shop.example.com]").meta({
      description:
        'The Host names this service answers: exact names, "*.example.com" (any name under example.com, not example.com itself), or "*" (any host no other service names). Matched without regard to case, without the port.',
    }),
    pathPrefix: pathPrefix.meta({
      description:
        "Only requests whose path starts with this prefix (at a / boundary); among the services of one host the longest matching prefix wins. Default /.",
    }),
    stripPrefix: z.boolean().default(false).meta({
      description: "Send the path without pathPrefix (/api/users reaches the service as /users).",
    }),
  })
  .superRefine((service, ctx) => {
    if ((service.config === undefined) === (service.upstream === undefined))
      ctx.addIssue({
        code: "custom",
        message:
          "give either config: (the service's cutover.yaml, whose router.listen the edge reads) or upstream: (host:port of its router), not both and not neither",
      });
    else if (service.upstream !== undefined && service.name === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: "is required with upstream: (with config: it defaults to the service: of that cutover.yaml)",
      });
  });

export const edgeTlsSchema = z
  .strictObject({
    listen: address("0.0.0.0:443").meta({
      description: "Where HTTPS (HTTP/2 and HTTP/1.1) is served. Default 0.0.0.0:443.",
    }),
    certificates: certificateFilesSchema("this file").optional().meta({
      description:
        "One pair per certificate, as router.tls.certificates: each serves the host names its certificate names (SNI), the first also clients that name none. Watched and reloaded without dropping a connection.",
    }),
    acme: acmeSchema.optional().meta({
      description:
        "A certificate for these names ordered from an ACME CA (Let's Encrypt by default) and renewed, as router.tls.acme; kept in .cutover/edge/acme/ beside this file. The CA checks each name on the plain listen: (port 80), which answers its challenges.",
    }),
    redirectHttp: z.boolean().default(false).meta({
      description:
        "true: the plain listen: answers every request with a 308 redirect to the same URL over https.",
    }),
  })
  .meta({ description: "HTTPS on its own listener (TLS 1.2 and 1.3 only, no weak ciphers)." });

export const edgeSchema = z
  .strictObject({
    listen: optionalAddress().meta({
      description: 'Where plain HTTP is served, e.g. "0.0.0.0:80". Optional when tls: is given.',
    }),
    tls: edgeTlsSchema.optional(),
    metrics: optionalAddress().meta({
      description:
        "Serves GET /metrics (Prometheus text, per service) and GET /health, without a token: keep it on loopback.",
    }),
    drainTimeout: duration("30s").meta({
      description:
        "On SIGTERM or SIGINT the edge stops accepting and lets requests in flight finish for up to this long.",
    }),
    services: z.array(edgeServiceSchema).min(1, "expected at least one service").meta({
      description: "The services behind the edge, each its own `cutover up` with its router on loopback.",
    }),
  })
  .superRefine((edge, ctx) => {
    if (edge.listen === undefined && edge.tls === undefined)
      ctx.addIssue({
        code: "custom",
        message:
          'the edge listens nowhere: give listen: (plain HTTP, e.g. "0.0.0.0:80") or tls: { listen, certificates }, or both',
      });
    if (edge.tls !== undefined && edge.tls.certificates === undefined && edge.tls.acme === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["tls"],
        message:
          "expected certificates (files you keep), acme (certificates ordered from a CA such as Let's Encrypt), or both",
      });
    if (edge.tls?.acme !== undefined && edge.listen === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["tls", "acme"],
        message:
          'needs a plain listen: beside it (e.g. "0.0.0.0:80"): the CA checks each name over plain HTTP on port 80 (the http-01 challenge), and the edge answers it there',
      });
    if (edge.tls?.redirectHttp === true && edge.listen === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["tls", "redirectHttp"],
        message: "redirects from the plain listener, and there is none: add listen: (e.g. 0.0.0.0:80)",
      });
  });

export type EdgeFile = z.output<typeof edgeSchema>;
export type EdgeServiceEntry = z.output<typeof edgeServiceSchema>;
