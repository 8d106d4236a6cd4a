import { DASHBOARD_PREFIX } from "./dashboard-files.js";

/**
 * The address to open: the admin base with the token in the fragment, which a browser never sends to
 * the server (nor in a Referer); the page moves it to sessionStorage and clears the address bar.
 * A daemon that listens on every interface is reached on loopback.
 */
export function dashboardUrl(adminBase: string, token: string): string {
  const base = new URL(adminBase);
  if (base.hostname === "0.0.0.0") base.hostname = "127.0.0.1";
  if (base.hostname === "[::]") base.hostname = "[::1]";
  return `${base.origin}${DASHBOARD_PREFIX}#token=${encodeURIComponent(token)}`;
}
