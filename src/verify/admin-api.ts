/** The calls the drill makes on cutover's admin API; the CLI's AdminClient has this shape. */
export interface AdminApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** POSTs and yields each line of an NDJSON answer as it arrives. */
  stream<T>(path: string, body: unknown): AsyncGenerator<T>;
}
