import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { type Colour, isColour } from "../../colour.js";
import type { LoadedConfig } from "../../config/load.js";
import { CutoverError } from "../../errors.js";
import type { Output } from "../output.js";

export interface RenderCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

interface RenderKubernetesOptions {
  readonly out?: string;
  readonly active?: string;
  readonly blueVersion?: string;
  readonly greenVersion?: string;
}

/** `cutover render kubernetes`: the manifests for cutover.yaml as YAML (or `--json`), to stdout or `--out`. */
export function registerRenderCommand(program: Command, context: RenderCommandContext): void {
  const render = program.command("render").description("write manifests for a platform");
  render
    .command("kubernetes")
    .description(
      "Services, a Deployment, PodDisruptionBudget and HPA per colour, as YAML for `kubectl apply -f`",
    )
    .option("-o, --out <file>", "write to this file instead of stdout")
    .option("--active <colour>", "the colour the active Service selects (blue or green)", "blue")
    .option("--blue-version <version>", "the version blue runs (default: `version` from cutover.yaml)")
    .option("--green-version <version>", "the version green runs (default: the active colour's)")
    .action(async (options: RenderKubernetesOptions) => {
      const loaded = context.config();
      const { manifestsYaml, renderManifests } = await import(
        "../../platforms/kubernetes/render-manifests.js"
      );
      const active = colourOption(options.active ?? "blue");
      const versions = { blue: options.blueVersion, green: options.greenVersion };
      const objects = renderManifests(loaded.config, { active, versions: definedOnly(versions) });
      const yaml = manifestsYaml(objects, loaded.file);
      if (options.out) {
        const path = resolve(options.out);
        writeFileSync(path, yaml);
        context
          .output()
          .result(
            { written: path, objects: objects.length },
            () => `wrote ${objects.length} objects to ${path}`,
          );
        return;
      }
      const out = context.output();
      // Past the CLI's redaction of values read from the environment (${VAR}): manifests carry what the pods get.
      const { writeUnredacted } = await import("../../config/interpolate.js");
      writeUnredacted(process.stdout, out.json ? `${JSON.stringify(objects, null, 2)}\n` : yaml);
    });
}

function colourOption(value: string): Colour {
  if (isColour(value)) return value;
  throw new CutoverError("BAD_ARGUMENT", `--active expects blue or green, got "${value}"`);
}

function definedOnly(versions: Record<Colour, string | undefined>): Partial<Record<Colour, string>> {
  return Object.fromEntries(Object.entries(versions).filter(([, v]) => v !== undefined));
}
