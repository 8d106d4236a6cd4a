/** `cutover preview`: a link that lets a tester reach the paused new version through the main address. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

describe("cutover preview", () => {
  it("prints a link whose cookie reaches the idle colour on the main address; other users stay on the live one", async () => {
    const project = await makeProject({ router: "  previewAccess: {}", deploy: "  autoPromote: false" });
    started.push(project);
    project.release("2.0.0");
    expect((await runCli(project, "up")).code).toBe(0);
    expect((await runCli(project, "deploy", "2.0.0", "--detach")).code).toBe(0);
    await eventually(
      "the deploy waits for promotion",
      async () => {
        const status = JSON.parse((await runCli(project, "status", "--json")).stdout) as ServiceStatus;
        return status.deploy?.phase === "Paused";
      },
      30_000,
    );
    const preview = await runCli(project, "preview", "--json");
    expect(preview.code, preview.stderr).toBe(0);
    const { url, header, secret } = JSON.parse(preview.stdout) as {
      url: string;
      header: string;
      secret: string;
    };
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${project.listen}/__cutover/preview\\?secret=`));
    const link = await fetch(url, { redirect: "manual" });
    expect(link.status).toBe(303);
    const cookie = String(link.headers.get("set-cookie")).split(";")[0] as string;
    const main = `http://127.0.0.1:${project.listen}/`;
    const version = async (headers: Record<string, string> = {}) =>
      (await fetch(main, { headers })).headers.get("x-app-version");
    expect(await version({ cookie })).toBe("2.0.0");
    expect(await version({ [header]: secret })).toBe("2.0.0");
    expect(await version()).toBe("1.0.0");
    expect(await version({ cookie: "cutover-preview=wrong-secret-0123456789" })).toBe("1.0.0");
    // The dashboard hands out the same link as the idle colour's address.
    const token = readFileSync(join(project.dir, ".cutover/token"), "utf8").trim();
    const live = await fetch(`http://127.0.0.1:${project.admin}/dashboard-api/live`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const reader = (live.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const hello = JSON.parse(text.slice(0, text.indexOf("\n"))) as { addresses: { preview: string } };
    expect(hello.addresses.preview).toBe(url);
  });

  it("says what to add when router.previewAccess is not set", async () => {
    const project = await makeProject();
    const result = await runCli(project, "preview");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no router\.previewAccess; add `previewAccess: \{\}` under router:/);
  });
});
