import { z } from "zod";

/** A name that is also a DNS label (a service, a namespace, a region): lower-case letters, digits, dashes. */
export const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "expected lower-case letters, digits and dashes (like a DNS label)",
  );
