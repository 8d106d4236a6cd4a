/**
 * A colour's database URL: the URL with `options=-c search_path=...` added, which node-postgres, libpq and
 * most drivers send at connection time (and the embedded database's wire server honours per client).
 */
export function colourDatabaseUrl(url: string, searchPath: string): string {
  const parsed = new URL(url);
  const setting = `-c search_path=${searchPath}`;
  const existing = parsed.searchParams.get("options");
  parsed.searchParams.delete("options");
  const options = existing ? `${existing} ${setting}` : setting;
  const separator = parsed.search ? "&" : "?";
  // Spaces as %20, not "+": libpq decodes only percent escapes.
  parsed.search = `${parsed.search}${separator}options=${encodeURIComponent(options)}`;
  return parsed.toString();
}
