/** Load for the switch tests: keep-alive connections that check which colour answered each request. */
import { Pool, request } from "undici";
import { expect } from "vitest";

export interface LoadResult {
  readonly answered: number;
  readonly failures: readonly string[];
  readonly connections: number;
}

/** `connections` keep-alive connections sending GET / back to back until stop(); checks each answer's colour. */
export function startLoad(
  url: string,
  connections: number,
): { readonly answered: number; stop(): Promise<LoadResult> } {
  const pool = new Pool(url, { connections });
  let running = true;
  let answered = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        const response = await pool.request({ path: "/", method: "GET" });
        const body = await response.body.text();
        if (response.statusCode !== 200 || !body.startsWith(String(response.headers["x-cutover-colour"]))) {
          failures.push(`${response.statusCode} ${body}`);
        }
        answered++;
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const workers = Array.from({ length: connections }, worker);
  return {
    get answered() {
      return answered;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      const connected = pool.stats.connected;
      await pool.close();
      return { answered, failures, connections: connected };
    },
  };
}

/** The colour that answers GET / at `url`, checked against the router's x-cutover-colour header. */
export async function colourOf(url: string): Promise<string> {
  const response = await request(url);
  const body = await response.body.text();
  expect(response.statusCode).toBe(200);
  expect(body.startsWith(String(response.headers["x-cutover-colour"]))).toBe(true);
  return body.split("-")[0] as string;
}
