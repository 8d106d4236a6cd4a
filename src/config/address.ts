import { z } from "zod";

/** "host:port", ":port" or a bare port. Parsed to { host, port }. */
export const address = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = parseAddress(value);
      if (!parsed) {
        ctx.addIssue({ code: "custom", message: "expected host:port such as 127.0.0.1:8080 (port 1-65535)" });
        return z.NEVER;
      }
      return parsed;
    })
    .meta({ description: 'A listen address "host:port"; a bare port means 127.0.0.1.' });

/** An address with no default: left out, it stays undefined. */
export const optionalAddress = () =>
  z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const parsed = parseAddress(value);
      if (!parsed) {
        ctx.addIssue({ code: "custom", message: "expected host:port such as 0.0.0.0:80 (port 1-65535)" });
        return z.NEVER;
      }
      return parsed;
    })
    .optional()
    .meta({ description: 'A listen address "host:port"; a bare port means 127.0.0.1.' });

export interface Address {
  readonly host: string;
  readonly port: number;
}

export function parseAddress(value: string | number): Address | undefined {
  const text = String(value).trim();
  const match = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = match[1] === undefined || match[1] === "" ? "127.0.0.1" : match[1];
  return { host, port };
}
