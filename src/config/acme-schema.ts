import { z } from "zod";
import { duration } from "./duration-field.js";

/** Let's Encrypt's production directory: what router.tls.acme orders from unless told otherwise. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

const domain = z
  .string()
  .transform((name) => name.trim().toLowerCase())
  .superRefine((name, ctx) => {
    if (name.startsWith("*."))
      ctx.addIssue({
        code: "custom",
        message:
          "a wildcard name needs the dns-01 challenge, which cutover does not answer; list each name (app.example.com, www.example.com)",
      });
    else if (!DNS_NAME.test(name))
      ctx.addIssue({ code: "custom", message: "expected a DNS name such as app.example.com" });
  });

export const acmeSchema = z
  .strictObject({
    domains: z.array(domain).min(1, "expected at least one name, such as [app.example.com]").meta({
      description:
        "The names of one certificate, ordered from the CA and renewed by the router. Each must resolve to this machine, whose port 80 must reach tls.redirectHttp (the CA checks each name there: http-01).",
    }),
    email: z.email("expected an email address").optional().meta({
      description:
        "Contact address given to the CA (Let's Encrypt no longer mails expiry notices); optional.",
    }),
    directory: z
      .url()
      .refine((url) => url.startsWith("https://"), "expected an https:// URL (ACME servers speak HTTPS)")
      .default(LETS_ENCRYPT_DIRECTORY)
      .meta({
        description:
          "The CA's ACME directory URL. Default Let's Encrypt production; https://acme-staging-v02.api.letsencrypt.org/directory to try a setup, or a private CA's (step-ca, pebble). Configuring acme agrees to that CA's terms of service.",
      }),
    directoryCa: z.string().min(1).optional().meta({
      description:
        "PEM file of the root that signs the directory's own HTTPS certificate, for a private ACME server (relative to cutover.yaml); left out: Node's usual roots and NODE_EXTRA_CA_CERTS.",
    }),
    renewBefore: duration("30d").meta({
      description: 'Renew when the certificate has less than this left (checked every 12 h); default "30d".',
    }),
  })
  .meta({
    description:
      "Certificates ordered and renewed automatically from an ACME CA (Let's Encrypt by default), kept under stateDir/acme/.",
  });

export type AcmeConfig = z.output<typeof acmeSchema>;

/** What router.tls needs as a whole: something to serve, and the port-80 listener ACME's challenge is answered on. */
export function checkTls(
  tls: { certificates?: unknown; acme?: unknown; redirectHttp?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (tls.certificates === undefined && tls.acme === undefined)
    ctx.addIssue({
      code: "custom",
      message:
        "expected certificates (files you keep), acme (certificates ordered from a CA such as Let's Encrypt), or both",
    });
  if (tls.acme !== undefined && tls.redirectHttp === undefined)
    ctx.addIssue({
      code: "custom",
      path: ["acme"],
      message:
        "needs redirectHttp: 0.0.0.0:80 beside it: the CA checks each name over plain HTTP on port 80 (the http-01 challenge), and the router answers it on that listener (everything else there is redirected to HTTPS)",
    });
}
