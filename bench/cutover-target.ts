import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Colour } from "../src/colour.js";
import type { BenchProcesses } from "./bench-processes.js";
import type { BenchTarget } from "./bench-target.js";
import type { DemoUpstream } from "./demo-upstreams.js";
import type { BenchCertificate } from "./nginx-target.js";

/** When the router child said the pointer moved, on the monotonic clock all processes share. */
export interface SwitchAck {
  readonly colour: Colour;
  readonly hrtime: bigint;
}

/**
 * cutover's built-in router in a node process of its own (bench/serve-router.ts); its switch is the admin
 * command "switch <colour>" on its stdin, answered once the pointer has moved.
 */
export async function startCutoverTarget(
  processes: BenchProcesses,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  logDir: string,
  onSwitched: (ack: SwitchAck) => void,
  tls: BenchCertificate | null = null,
): Promise<BenchTarget> {
  const script = fileURLToPath(new URL("./serve-router.js", import.meta.url));
  const tlsArgs = tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : [];
  const child = processes.spawn(
    tls ? "cutover router (tls)" : "cutover router",
    process.execPath,
    [script, "--blue", String(upstreams.blue.port), "--green", String(upstreams.green.port), ...tlsArgs],
    {
      logFile: join(logDir, tls ? "cutover-router-tls.log" : "cutover-router.log"),
      stdin: true,
      announces: true,
    },
  );
  const { port } = (await child.announced) as { port: number };
  const waiting: Array<(ack: SwitchAck) => void> = [];
  let buffered = "";
  child.child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const parsed = safeJson(line);
      if (typeof parsed?.switched !== "string" || typeof parsed.hrtime !== "string") continue;
      const ack = { colour: parsed.switched as Colour, hrtime: BigInt(parsed.hrtime) };
      onSwitched(ack);
      waiting.shift()?.(ack);
    }
  });
  if (tls)
    return {
      name: "cutover-tls",
      label: `cutover built-in router (node ${process.version}, one process), HTTPS (router.tls)`,
      url: `https://127.0.0.1:${port}/`,
      pids: () => [child.pid],
      switchMethod: "",
      switchTo: null,
    };
  return {
    name: "cutover",
    label: `cutover built-in router (node ${process.version}, one process)`,
    url: `http://127.0.0.1:${port}/`,
    pids: () => [child.pid],
    switchMethod:
      'admin command "switch <colour>" on the router process\'s stdin, taken by its admin worker thread',
    switchTo: (colour) =>
      new Promise<void>((resolve) => {
        waiting.push(() => resolve());
        child.child.stdin?.write(`switch ${colour}\n`);
      }),
  };
}

function safeJson(line: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
