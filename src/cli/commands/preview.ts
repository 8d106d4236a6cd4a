import type { LoadedConfig } from "../../config/load.js";
import { CutoverError } from "../../errors.js";
import { listenBase, previewLink, previewSecret } from "../../router/preview-access.js";
import type { Output } from "../output.js";

/** `cutover preview`: the link that sets the preview cookie, and the header, for router.previewAccess. */
export function previewCommand(loaded: LoadedConfig, out: Output): void {
  const access = loaded.config.router.previewAccess;
  if (!access)
    throw new CutoverError(
      "NO_PREVIEW_ACCESS",
      `${loaded.file} has no router.previewAccess; add \`previewAccess: {}\` under router: (then \`cutover down && cutover up\`) to let testers reach the idle colour through ${loaded.config.router.listen.host}:${loaded.config.router.listen.port}`,
    );
  const secret = previewSecret(loaded.stateDir, access.secret);
  const base = listenBase(loaded.config.router.listen, loaded.config.router.tls !== undefined);
  const url = previewLink(base, secret);
  out.result({ url, header: access.header, cookie: access.cookie, secret }, () =>
    [
      `open ${url}`,
      "  (it sets a cookie: every request from that browser reaches the idle colour; /__cutover/preview?off ends it)",
      `or send the header: curl -H '${access.header}: ${secret}' ${base}/`,
    ].join("\n"),
  );
}
