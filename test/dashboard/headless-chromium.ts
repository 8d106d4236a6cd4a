/** Debian's chromium driven by playwright-core, headless, with a fresh profile per launch. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.CUTOVER_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null. Under CI=true the tests fail instead of skipping. */
export const chromiumMissing: string | null = existsSync(CHROMIUM)
  ? null
  : `no chromium at ${CHROMIUM} (apt-get install chromium, or set CUTOVER_CHROMIUM)`;

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  options: { colorScheme?: "light" | "dark" } = {},
): Promise<HeadlessChromium> {
  const profile = mkdtempSync(join(tmpdir(), "cutover-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? "light",
    timeout: 20_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
