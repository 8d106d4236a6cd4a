/**
 * The admin API under abuse, against a real daemon (`cutover up`, its own process): slow headers, 10,000 idle
 * connections, oversized and malformed requests; it must neither crash nor starve, nor log a secret.
 * (Every endpoint answering 401 without the token is in test/cli/cli.test.ts.)
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import type { DaemonInfo } from "../../src/daemon/state-files.js";
import { isAlive } from "../helpers/eventually.js";
import { hexOfPort, listeningAddresses } from "../helpers/listening-sockets.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";
import { downAll, up } from "../verify/verify-project.js";

/** A project, up; stopped when the test ends (each test has its own, so the tests run side by side). */
async function upProject({ onTestFinished }: TestContext, edit?: (p: Project) => void): Promise<Project> {
  const project = await makeProject({ replicas: 1 });
  edit?.(project);
  const started: Project[] = [];
  onTestFinished(() => downAll(started));
  await up(project, started);
  return project;
}

const IDLE = 10_000;
const token = (p: Project) => readFileSync(join(p.dir, ".cutover/token"), "utf8").trim();
const daemonPid = (p: Project) =>
  (JSON.parse(readFileSync(join(p.dir, ".cutover/daemon.json"), "utf8")) as DaemonInfo).pid;

/** Opens `count` TCP connections to `port`, `batch` at a time; resolves once all are connected. */
async function openIdle(sockets: Socket[], port: number, count: number, batch = 250): Promise<Socket[]> {
  const opened: Socket[] = [];
  for (let i = 0; i < count; i += batch) {
    const round = Array.from({ length: Math.min(batch, count - i) }, () => {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.resume(); // read what the server sends (its 408), so that its close is seen
      sockets.push(socket);
      opened.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
    });
    await Promise.all(round);
  }
  return opened;
}

/** A raw HTTP/1.1 exchange; resolves with the status line and the head, or "closed". */
function raw(port: number, text: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(answer || "closed"));
    socket.write(text);
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const begun = Date.now();
  const value = await work;
  return { value, ms: Date.now() - begun };
}

function softFdLimit(): number {
  return Number(execFileSync("/bin/sh", ["-c", "ulimit -n"]).toString().trim());
}

// Each test has its own daemon and ports: they run side by side, the first (which waits out the 10 s
// headersTimeout) setting the file's time.
describe.concurrent("the admin API under abuse", () => {
  it(`neither crashes nor starves with ${IDLE.toLocaleString("en-US")} idle connections and slow-header clients, and closes them`, {
    timeout: 120_000,
  }, async (context) => {
    const limit = softFdLimit();
    // The test process holds one end of each connection, the daemon (which inherits this limit) the other.
    if (limit < IDLE + 1_000) {
      const why = `ulimit -n is ${limit}; this test needs ${IDLE + 1_000} file descriptors (raise it with ulimit -n)`;
      if (process.env.CI === "true") throw new Error(why);
      console.warn(`skipped: ${why}`);
      return;
    }
    const project = await upProject(context);
    const sockets: Socket[] = [];
    context.onTestFinished(() => {
      for (const socket of sockets) socket.destroy();
    });
    const auth = { authorization: `Bearer ${token(project)}` };
    const admin = `http://127.0.0.1:${project.admin}`;

    const idle = await openIdle(sockets, project.admin, IDLE);
    const slow = await openIdle(sockets, project.admin, 100, 100);
    for (const socket of slow) socket.write("GET /status HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => {
      for (const socket of slow) if (!socket.destroyed) socket.write("X-Slow: 1\r\n");
    }, 500);
    try {
      // With all of them open, the API and the data plane both answer.
      const status = await timed(fetch(`${admin}/status`, { headers: auth }));
      expect(status.value.status).toBe(200);
      const served = await timed(fetch(`http://127.0.0.1:${project.listen}/`));
      expect(served.value.status).toBe(200);
      console.log(
        `with ${IDLE} idle and 100 slow-header connections open: /status in ${status.ms} ms, the service in ${served.ms} ms`,
      );

      // headersTimeout (10 s) closes every connection that has not sent a whole request head.
      const closedAll = await timed(
        new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if ([...idle, ...slow].every((s) => s.closed)) {
              clearInterval(check);
              resolve();
            }
          }, 200);
        }),
      );
      console.log(`the server closed them all ${closedAll.ms} ms after the check began`);
      expect(closedAll.ms).toBeLessThan(30_000);
    } finally {
      clearInterval(trickle);
    }
    expect(isAlive(daemonPid(project))).toBe(true);
    expect((await fetch(`${admin}/status`, { headers: auth })).status).toBe(200);
  });

  it("refuses oversized and malformed requests with 4xx, keeps answering, and logs no secret", async (context) => {
    const project = await upProject(context);
    const secret = token(project);
    const port = project.admin;
    const auth = `Authorization: Bearer ${secret}\r\n`;
    const post = (path: string, body: string, extra = "") =>
      raw(
        port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
      );

    // A body over 64 KiB sent chunked, without a declared length: refused once it passes the limit.
    const chunk = "x".repeat(16 * 1024);
    const chunked = `POST /deploys HTTP/1.1\r\nHost: x\r\n${auth}transfer-encoding: chunked\r\n\r\n${`${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(8)}0\r\n\r\n`;
    expect(await raw(port, chunked)).toMatch(/^HTTP\/1\.1 413 /);
    // A declared length over the limit is refused before the body is read.
    expect(
      await raw(port, `POST /deploys HTTP/1.1\r\nHost: x\r\n${auth}content-length: 100000000\r\n\r\n{`),
    ).toMatch(/^HTTP\/1\.1 413 /);
    // Request heads over Node's 16 KiB limit.
    expect(
      await raw(port, `GET /status HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${"y".repeat(20_000)}\r\n\r\n`),
    ).toMatch(/^HTTP\/1\.1 431 /);
    // JSON that is not JSON, not an object, or not the right shape.
    expect(await post("/deploys", "{version:")).toMatch(/^HTTP\/1\.1 400 [\s\S]*not valid JSON/);
    expect(await post("/deploys", "[1,2]")).toMatch(/^HTTP\/1\.1 400 [\s\S]*must be a JSON object/);
    expect(await post("/deploys", '{"version":5}')).toMatch(/^HTTP\/1\.1 400 [\s\S]*BAD_VERSION/);
    expect(await post("/deploys", '"\u0000"')).toMatch(/^HTTP\/1\.1 400 /);
    // Not HTTP at all.
    expect(await raw(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01]))).toMatch(
      /^HTTP\/1\.1 400 |closed/,
    );
    // Without the token, an unknown path is 401 too: nothing to learn about which endpoints exist.
    expect(await raw(port, "GET /no-such-thing HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 401 /,
    );
    // A wrong token, and the right one in a query string of a failing request, reach no log line.
    await fetch(`http://127.0.0.1:${port}/status`, {
      headers: { authorization: "Bearer WRONG-TOKEN-MARKER" },
    });
    await fetch(`http://127.0.0.1:${port}/promote?token=${secret}`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
    });

    expect(isAlive(daemonPid(project))).toBe(true);
    const status = await fetch(`http://127.0.0.1:${port}/status`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(status.status).toBe(200);
    // A deploy, a rollback and a verify through the CLI, so that the logs hold a bit of everything.
    project.release("2.0.0");
    expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
    const verify = await runCli(project, "--json", "verify", "--switches", "2");
    expect(verify.code).toBe(0);
    await runCli(project, "down");

    const logDir = join(project.dir, ".cutover");
    const files = [
      join(logDir, "daemon.log"),
      ...readdirSync(join(logDir, "logs")).map((f) => join(logDir, "logs", f)),
    ];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect(text, file).not.toContain(secret);
      expect(text, file).not.toContain("WRONG-TOKEN-MARKER");
    }
    for (const output of [verify.stdout, verify.stderr]) expect(output).not.toContain(secret);
    const lines = readFileSync(join(logDir, "daemon.log"), "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("binds the admin API where it is told: loopback by default, every address when configured so", async (context) => {
    const project = await upProject(context, (p) =>
      writeFileSync(
        p.config,
        readFileSync(p.config, "utf8").replace(`admin: 127.0.0.1:${p.admin}`, `admin: 0.0.0.0:${p.admin}`),
      ),
    );
    const hexPort = hexOfPort(project.admin);
    const listening = listeningAddresses(project.admin);
    expect(listening).toEqual([`00000000:${hexPort}`]);
    // Still behind the token.
    expect((await fetch(`http://127.0.0.1:${project.admin}/status`)).status).toBe(401);
  });
});
