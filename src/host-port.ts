/** "host:port", with an IPv6 host in brackets as URLs need it. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** http://host:port followed by `path`. */
export function httpUrl(address: { readonly host: string; readonly port: number }, path = ""): string {
  return `http://${hostPort(address.host, address.port)}${path}`;
}

/** https://host:port followed by `path`. */
export function httpsUrl(address: { readonly host: string; readonly port: number }, path = ""): string {
  return `https://${hostPort(address.host, address.port)}${path}`;
}
