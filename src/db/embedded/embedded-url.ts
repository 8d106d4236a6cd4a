/** The URL of the embedded database's wire server: postgres://postgres@host:port/postgres. */
export function embeddedUrl(host: string, port: number): string {
  const shown = host.includes(":") ? `[${host}]` : host;
  return `postgres://postgres@${shown}:${port}/postgres`;
}
