/**
 * `npm run docs:pictures`: the README's pictures, from real runs on this machine.
 *
 *   docs/report-regress.png  the deploy report of `npm run demo -- --regress`: 2.0.0 answers 10% errors
 *                            after the switch, the post-switch analysis fails and traffic goes back to blue.
 *
 * The dashboard's picture (docs/dashboard.png) comes from its browser test, which needs chromium:
 *   CUTOVER_SCREENSHOT=docs/dashboard.png npx vitest run test/dashboard/dashboard.e2e.test.ts
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const docs = join(root, "docs");

/** Runs the demo with `args`, its output shown as it comes; resolves with that output and the exit code. */
function runDemo(...args: string[]): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, [join(root, "dist/scripts/demo.js"), ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  return new Promise((done) => child.on("close", (code) => done({ code: code ?? 1, output })));
}

async function main(): Promise<number> {
  mkdirSync(docs, { recursive: true });
  const regress = await runDemo("--regress");
  const png = /^\s+report png\s+(\S+)$/m.exec(regress.output)?.[1];
  if (regress.code !== 0 || png === undefined || !existsSync(png)) {
    console.error(`readme-pictures: the --regress demo did not go as expected (exit ${regress.code})`);
    return 1;
  }
  const target = join(docs, "report-regress.png");
  copyFileSync(png, target);
  console.log(`\nwrote ${target}`);
  return 0;
}

process.exitCode = await main();
