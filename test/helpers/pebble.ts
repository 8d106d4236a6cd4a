/**
 * Debian's pebble (Let's Encrypt's ACME test server) with pebble-challtestsrv as its DNS server, answering
 * 127.0.0.1 for every name: a CA that really checks http-01 challenges, on the machine. Pebble's own HTTPS
 * certificate is made here with openssl; its issuing root is made anew at each start and read from its
 * management port.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./eventually.js";
import { freePort } from "./project.js";

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** Path of the PEM file that signs pebble's own HTTPS (a directoryCa, or NODE_EXTRA_CA_CERTS). */
  readonly httpsCaFile: string;
  /** The root that issues pebble's certificates (GET /roots/0 on the management port). */
  root(): Promise<string>;
  /** What pebble printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Where pebble sends http-01 checks: the router's redirectHttp port. */
  readonly httpPort: number;
  /** Lifetime of the certificates it issues. Default 90 days, as Let's Encrypt's. */
  readonly validitySeconds?: number;
}

/** Whether pebble and pebble-challtestsrv are installed (Debian's pebble package). */
export function pebbleInstalled(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v pebble && command -v pebble-challtestsrv"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const PEBBLE_MISSING = "pebble is not installed (apt-get install pebble; .ci/run does)";

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-pebble-"));
  const httpsCaFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
      ...["-keyout", join(dir, "key.pem"), "-out", httpsCaFile, "-subj", "/CN=pebble"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    ],
    { stdio: "ignore" },
  );
  const [acmePort, managementPort, dnsPort, dnsManagementPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const logs: string[] = [];
  const processes: ChildProcess[] = [];
  const run = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout, child.stderr])
      stream?.on("data", (c: Buffer) => logs.push(c.toString()));
    processes.push(child);
    return child;
  };
  // Only its DNS server: A 127.0.0.1 for every name, no AAAA (the router listens on 127.0.0.1 only).
  run("pebble-challtestsrv", [
    ...["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
    ...["-dns01", `127.0.0.1:${dnsPort}`, "-management", `127.0.0.1:${dnsManagementPort}`],
    ...["-http01", "", "-https01", "", "-tlsalpn01", ""],
  ]);
  const config = join(dir, "pebble-config.json");
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: httpsCaFile,
        privateKey: join(dir, "key.pem"),
        httpPort: options.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        certificateValidityPeriod: options.validitySeconds ?? 90 * 86_400,
      },
    }),
  );
  run("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`, "-strict=false"], {
    PEBBLE_VA_NOSLEEP: "1",
  });
  const ca = readFileSync(httpsCaFile, "utf8");
  const fetchText = (url: string) =>
    new Promise<string>((resolve, reject) => {
      get(url, { ca }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      }).once("error", reject);
    });
  const pebble: Pebble = {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    httpsCaFile,
    root: () => fetchText(`https://127.0.0.1:${managementPort}/roots/0`),
    output: () => logs.join(""),
    async stop() {
      await Promise.all(processes.map(stopProcess));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Both listen within a second here; a busy machine gets 30.
    await eventually(
      "pebble answers its directory and challtestsrv its management port",
      async () => {
        if (processes.some((p) => p.exitCode !== null)) throw new Error(`pebble exited:\n${pebble.output()}`);
        const answered = await Promise.all([
          fetchText(pebble.directory).then(
            () => true,
            () => false,
          ),
          fetchPlain(`http://127.0.0.1:${dnsManagementPort}/`),
        ]);
        return answered.every(Boolean);
      },
      30_000,
    );
  } catch (error) {
    await pebble.stop();
    throw error;
  }
  return pebble;
}

/** True once anything answers HTTP there (challtestsrv's management API answers 404 on /). */
function fetchPlain(url: string): Promise<boolean> {
  return fetch(url).then(
    async (res) => {
      await res.arrayBuffer();
      return true;
    },
    () => false,
  );
}

/** SIGTERM by pid, then waits for the exit; SIGKILL after 10 s (a pebble stuck in shutdown must not hang the suite). */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
