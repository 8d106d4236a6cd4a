/**
 * The error table (src/errors.ts ERRORS): every code cutover raises is in it, each with an exit code and an
 * HTTP status, and the CLI and the admin API take theirs from it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, resolve } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient } from "../src/control/admin-client.js";
import { AdminServer } from "../src/daemon/admin-server.js";
import type { Engine } from "../src/engine/engine.js";
import {
  ConfigError,
  CutoverError,
  DaemonNotRunningError,
  DeployInProgressError,
  ERRORS,
  type ErrorCode,
  EXIT_BAD_INPUT,
  EXIT_FAILED,
  exitCodeOf,
  hasCode,
  httpStatusOf,
  isErrorCode,
} from "../src/errors.js";

const SRC = resolve(import.meta.dirname, "../src");
const CODES = Object.keys(ERRORS) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const sources = sourceFiles(SRC).map((file) => ({
  file: relative(SRC, file),
  text: readFileSync(file, "utf8"),
}));

/** The codes src/ raises: `new CutoverError("X", ...)` and `super("X", ...)` in its subclasses. */
function raisedCodes(): Map<string, string[]> {
  const raised = new Map<string, string[]>();
  for (const { file, text } of sources) {
    for (const match of text.matchAll(/\b(?:new CutoverError|super)\(\s*"([A-Z][A-Z0-9_]*)"/g)) {
      const code = match[1] as string;
      raised.set(code, [...(raised.get(code) ?? []), file]);
    }
  }
  return raised;
}

describe("the error table", () => {
  it("gives every code an exit code, an HTTP status and a one-line meaning", () => {
    expect(CODES.length).toBeGreaterThan(60);
    for (const code of CODES) {
      const spec = ERRORS[code];
      expect([0, 1, 2], code).toContain(spec.exitCode);
      expect(Number.isInteger(spec.httpStatus) && spec.httpStatus >= 400 && spec.httpStatus < 600, code).toBe(
        true,
      );
      expect(spec.meaning.trim(), code).not.toBe("");
      expect(spec.meaning, code).not.toMatch(/\n/);
      // Bad input is a 400 and a 400 is bad input, on both sides of the admin API.
      expect(spec.exitCode === EXIT_BAD_INPUT, code).toBe(spec.httpStatus === 400);
    }
  });

  it("holds every code src/ raises", () => {
    const raised = raisedCodes();
    expect(raised.size).toBeGreaterThan(50); // the scan finds them (it would pass vacuously otherwise)
    const missing = [...raised].filter(([code]) => !isErrorCode(code)).map(([c, files]) => `${c} (${files})`);
    expect(missing).toEqual([]);
  });

  it("holds no code that src/ never names", () => {
    // errors.ts after the table counts: ConfigError raises CONFIG_INVALID there.
    const outside = ({ file, text }: { file: string; text: string }) =>
      file === "errors.ts" ? text.slice(text.indexOf("export type ErrorCode")) : text;
    const named = new Set(
      sources.flatMap((source) => [...outside(source).matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1])),
    );
    expect(CODES.filter((code) => !named.has(code))).toEqual([]);
  });

  it("maps the known codes as documented", () => {
    expect(ERRORS.CONFIG_INVALID).toMatchObject({ exitCode: 2, httpStatus: 400 });
    expect(ERRORS.BAD_ARGUMENT).toMatchObject({ exitCode: 2, httpStatus: 400 });
    for (const code of ["DEPLOY_IN_PROGRESS", "NOT_PAUSED", "NO_DEPLOY", "NOTHING_TO_ROLL_BACK"] as const)
      expect(ERRORS[code], code).toMatchObject({ exitCode: 1, httpStatus: 409 });
    expect(ERRORS.DAEMON_NOT_RUNNING).toMatchObject({ exitCode: 1, httpStatus: 503 });
    expect(ERRORS.SMOKE_FAILED).toMatchObject({ exitCode: 1, httpStatus: 500 });
  });

  it("gives each error its exit code and status from the table", () => {
    const config = new ConfigError("cutover.yaml", ["router.listen: expected host:port"]);
    expect([config.code, config.exitCode, config.httpStatus]).toEqual(["CONFIG_INVALID", 2, 400]);
    const busy = new DeployInProgressError("d1", "2.0.0", "Paused");
    expect([busy.exitCode, httpStatusOf(busy)]).toEqual([1, 409]);
    expect(exitCodeOf(new DaemonNotRunningError("no daemon.json"))).toBe(EXIT_FAILED);
    for (const code of CODES) {
      const error = new CutoverError(code, "m");
      expect([exitCodeOf(error), httpStatusOf(error)], code).toEqual([
        ERRORS[code].exitCode,
        ERRORS[code].httpStatus,
      ]);
    }
    // Anything else is a failure, and the daemon's fault.
    expect([exitCodeOf(new Error("x")), httpStatusOf(new Error("x"))]).toEqual([1, 500]);
  });

  it("compares codes with type checking", () => {
    const error: unknown = new CutoverError("HOLDER_GONE", "gone");
    expect(hasCode(error, "HOLDER_GONE")).toBe(true);
    expect(hasCode(error, "LOCK_LOST")).toBe(false);
    expect(hasCode(new Error("HOLDER_GONE"), "HOLDER_GONE")).toBe(false);
    // @ts-expect-error a code that is not in the table does not compile
    expect(hasCode(error, "HOLDER_GNOE")).toBe(false);
    // @ts-expect-error nor does a comparison with one
    expect((error as CutoverError).code === "HOLDER_GNOE").toBe(false);
    expect(isErrorCode("HOLDER_GONE")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
  });
});

describe("the admin API and the CLI's client", () => {
  const TOKEN = "t".repeat(32);
  let thrown: unknown = null;
  const engine = {
    rollback: async () => {
      throw thrown;
    },
  } as unknown as Engine;
  const admin = new AdminServer({
    address: { host: "127.0.0.1", port: 0 },
    token: TOKEN,
    engine,
    metrics: async () => ({ contentType: "text/plain", text: "" }),
    onShutdown: () => {},
    logger: pino({ level: "silent" }),
  });
  let base = "";
  beforeAll(async () => {
    await admin.start();
    base = `http://127.0.0.1:${admin.address().port}`;
  });
  afterAll(() => admin.close());

  it("answers each code with the table's status; the client exits with the table's exit code", async () => {
    const client = new AdminClient(base, TOKEN);
    const wrong: string[] = [];
    for (const code of CODES) {
      thrown = new CutoverError(code, `refused with ${code}`);
      const response = await fetch(`${base}/rollback`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = (await response.json()) as { error?: string };
      if (response.status !== ERRORS[code].httpStatus || body.error !== code)
        wrong.push(
          `${code}: answered ${response.status} ${body.error}, table says ${ERRORS[code].httpStatus}`,
        );
      const seen = await client.post("/rollback").catch((error: unknown) => error);
      if (!hasCode(seen, code) || seen.exitCode !== ERRORS[code].exitCode)
        wrong.push(`${code}: the client saw ${String(seen)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("answers an unexpected error with INTERNAL", async () => {
    thrown = new Error("boom");
    const seen = await new AdminClient(base, TOKEN).post("/rollback").catch((error: unknown) => error);
    expect(hasCode(seen, "INTERNAL") && [seen.exitCode, seen.httpStatus]).toEqual([1, 500]);
  });

  it("passes on a code it does not know as UNKNOWN_ANSWER", async () => {
    const other: Server = createServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "FROM_A_NEWER_DAEMON", message: "no" }));
    });
    await new Promise<void>((done) => other.listen(0, "127.0.0.1", done));
    try {
      const { port } = other.address() as AddressInfo;
      const seen = await new AdminClient(`http://127.0.0.1:${port}`, TOKEN).get("/status").catch((e) => e);
      expect(hasCode(seen, "UNKNOWN_ANSWER")).toBe(true);
      expect((seen as CutoverError).message).toBe("no (FROM_A_NEWER_DAEMON)");
    } finally {
      await new Promise((done) => other.close(done));
    }
  });
});
