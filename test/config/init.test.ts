import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { forgetSecrets } from "../../src/config/interpolate.js";
import { loadConfig, parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import {
  configTemplate,
  SCHEMA_FILE,
  TEMPLATE_PLATFORMS,
  TEMPLATE_SECTIONS,
  type TemplateSection,
} from "../../src/config/template.js";
import { CLI } from "../helpers/project.js";

afterEach(() => forgetSecrets());

const ENV = { DATABASE_URL: "postgres://shop:pw@db.internal:5432/shop" };

const subsets: TemplateSection[][] = [[], ["database"], ["analysis"], [...TEMPLATE_SECTIONS]];

function cli(cwd: string, env: Record<string, string | undefined>, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", CUTOVER_CONFIG: undefined, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("the config cutover init writes", () => {
  for (const platform of TEMPLATE_PLATFORMS)
    for (const sections of subsets)
      it(`loads and validates: --platform ${platform} --with ${sections.join(",") || "(none)"}`, () => {
        const text = configTemplate("shop", { platform, with: sections });
        expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${SCHEMA_FILE}`);
        const { config } = parseConfig(text, "/srv/shop/cutover.yaml", ENV);
        expect(config.platform).toBe(platform);
        expect(config.database !== undefined).toBe(sections.includes("database"));
        expect(config.analysis !== undefined).toBe(sections.includes("analysis"));
        if (platform === "kubernetes")
          expect(config.kubernetes?.image).toBe("registry.example.com/shop:{version}");
      });

  it("writes cutover.yaml and the schema beside it, from -c, CUTOVER_CONFIG or the working directory", async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "cutover-init-")));
    const here = join(root, "my_Shop");
    mkdirSync(here);
    const plain = await cli(here, {}, "init", "--platform", "kubernetes", "--with", "database,analysis");
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    const file = join(here, "cutover.yaml");
    expect(readFileSync(file, "utf8")).toMatch(/^# yaml-language-server: \$schema=cutover\.schema\.json\n/);
    expect(JSON.parse(readFileSync(join(here, SCHEMA_FILE), "utf8"))).toEqual(
      JSON.parse(JSON.stringify(configJsonSchema())),
    );
    process.env.DATABASE_URL ??= ENV.DATABASE_URL;
    const loaded = loadConfig(file);
    expect(loaded.config.service).toBe("my-shop");
    expect(loaded.config.kubernetes?.image).toBe("registry.example.com/my-shop:{version}");

    const named = join(root, "elsewhere", "svc.yaml");
    mkdirSync(join(root, "elsewhere"));
    const viaEnv = await cli(here, { CUTOVER_CONFIG: named }, "init", "--with", "analysis");
    expect(viaEnv.code).toBe(0);
    expect(existsSync(named)).toBe(true);
    expect(existsSync(join(root, "elsewhere", SCHEMA_FILE))).toBe(true);
    expect(loadConfig(named).config.analysis?.source.type).toBe("router");

    const again = await cli(here, {}, "init");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    const bad = await cli(here, {}, "init", "--force", "--with", "database,metrics");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--with takes database, analysis.*"metrics"/);
    const badPlatform = await cli(here, {}, "init", "--force", "--platform", "nomad");
    expect(badPlatform.code).toBe(2);
  });

  it("commands find the config from a subfolder, and say how to make one when there is none", async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "cutover-search-")));
    mkdirSync(join(root, "svc", "src", "deep"), { recursive: true });
    expect((await cli(join(root, "svc"), {}, "init")).code).toBe(0);
    // Found two folders up: status gets as far as asking for the daemon of that service.
    const found = await cli(join(root, "svc", "src", "deep"), {}, "status");
    expect(found.stderr).toMatch(/daemon is not running/);
    expect(found.code).toBe(1);
    const none = await cli(root, {}, "status");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no cutover\.yaml in .*cutover-search-.*cutover init/s);
  });
});
