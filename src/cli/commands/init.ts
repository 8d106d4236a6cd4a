import { existsSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { CutoverError } from "../../errors.js";
import type { Output } from "../output.js";

/** As config/template.ts has them; written out here so that registering `init` loads nothing more. */
const PLATFORMS = ["local", "kubernetes"] as const;
const SECTIONS = ["database", "analysis"] as const;
type Section = (typeof SECTIONS)[number];

export interface InitContext {
  /** The file -c/--config or CUTOVER_CONFIG names, if any; default ./cutover.yaml. */
  readonly configFlag: () => string | undefined;
  readonly output: () => Output;
}

/**
 * `cutover init`: writes a commented cutover.yaml (for a platform, with optional sections) and, beside it,
 * cutover.schema.json, which the YAML's first line names for editors (yaml-language-server). A schema file
 * beside the config works offline, in any editor, whether cutover was installed globally, with npx or in
 * node_modules, and matches the cutover version that wrote the config; `cutover schema` refreshes it.
 */
export function registerInitCommand(program: Command, context: InitContext): void {
  program
    .command("init")
    .description("write a commented cutover.yaml (and cutover.schema.json beside it, for editors)")
    .option("--force", "overwrite an existing file")
    .option("--service <name>", "the service's name (default: this folder's name)")
    .addOption(
      new Option("--platform <platform>", "where the colours run").choices(PLATFORMS).default("local"),
    )
    .option(
      "--with <sections>",
      `optional sections, comma-separated: ${SECTIONS.join(", ")}`,
      parseSections,
      [] as Section[],
    )
    .action(
      async (options: {
        force?: boolean;
        service?: string;
        platform: (typeof PLATFORMS)[number];
        with: Section[];
      }) => {
        const { configTemplate, SCHEMA_FILE } = await import("../../config/template.js");
        const { configJsonSchema } = await import("../../config/schema.js");
        const path = resolve(context.configFlag() ?? process.env.CUTOVER_CONFIG ?? "cutover.yaml");
        if (existsSync(path) && !options.force) {
          throw new CutoverError("EXISTS", `${path} already exists; pass --force to overwrite it`);
        }
        const service = serviceName(options.service ?? basename(dirname(path)));
        const schemaPath = join(dirname(path), SCHEMA_FILE);
        writeFileSync(
          path,
          configTemplate(service, { platform: options.platform, with: options.with, schema: SCHEMA_FILE }),
        );
        writeFileSync(schemaPath, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
        const next =
          options.platform === "kubernetes"
            ? "edit kubernetes.image, then run `cutover render kubernetes` or `cutover deploy <version>`"
            : "edit start.command, then run `cutover up`";
        context
          .output()
          .result({ written: path, schema: schemaPath }, () => `wrote ${path} and ${schemaPath}; ${next}`);
      },
    );
}

function parseSections(value: string, previous: Section[]): Section[] {
  const given = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const unknown = given.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new CutoverError(
      "BAD_ARGUMENT",
      `--with takes ${SECTIONS.join(", ")} (comma-separated); got ${unknown.map((s) => `"${s}"`).join(", ")}`,
    );
  return [...new Set([...previous, ...(given as Section[])])];
}

/** A folder's name as a service name: lower-case letters, digits and dashes. */
function serviceName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63)
      .replace(/-+$/, "") || "app"
  );
}
