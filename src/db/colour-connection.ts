/**
 * A colour's database URL: the URL with `options=-c search_path=...` added, which node-postgres, libpq and
 * most drivers send at connection time (and the embedded database's wire server honours per client).
 */
export function colourDatabaseUrl(url: string, searchPath: string): string {
  const parsed = new URL(url);
  const setting = `-c search_path=${searchPath}`;
  const existing = parsed.searchParams.get("options");
  // The other parameters keep their own escapes: URLSearchParams would write spaces as "+", which libpq
  // does not decode; only percent escapes are safe.
  const others = parsed.search
    .slice(1)
    .split("&")
    .filter((pair) => pair !== "" && !pair.startsWith("options="));
  const options = existing ? `${existing} ${setting}` : setting;
  parsed.search = [...others, `options=${encodeURIComponent(options)}`].join("&");
  return parsed.toString();
}
