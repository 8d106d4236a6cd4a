import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { type Colour, isColour } from "../../colour.js";
import type { AzureFrontConfig, RegionConfig } from "../../config/fleet-schema.js";
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

/**
 * `cutover render kubernetes`: the manifests for cutover.yaml as YAML (or `--json`), to stdout or `--out`;
 * `cutover render systemd`: a unit that runs the daemon and restarts it (the data plane serves on);
 * `cutover render traffic-manager`: the Azure Traffic Manager profile as an ARM template (JSON).
 */
export function registerRenderCommand(program: Command, context: RenderCommandContext): void {
  const render = program
    .command("render")
    .description("write manifests for a platform, or the template of the global front");
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
  render
    .command("systemd")
    .description(
      "a systemd unit that runs the daemon and restarts it; the data plane serves on through restarts",
    )
    .option("-o, --out <file>", "write to this file instead of stdout")
    .option(
      "--user <name>",
      "the account the daemon runs as (default: the one running this command; root: none)",
    )
    .action(async (options: { readonly out?: string; readonly user?: string }) => {
      const loaded = context.config();
      const { renderSystemdUnit } = await import("../render-systemd.js");
      const user = options.user ?? userInfo().username;
      const unit = renderSystemdUnit(loaded, {
        node: process.execPath,
        main: fileURLToPath(new URL("../main.js", import.meta.url)),
        user: user === "root" ? null : user,
      });
      if (!options.out) {
        process.stdout.write(unit);
        return;
      }
      const path = resolve(options.out);
      writeFileSync(path, unit);
      const name = `cutover-${loaded.config.service}.service`;
      context
        .output()
        .result(
          { written: path, unit: name },
          () =>
            `wrote ${path}; install it: sudo cp ${path} /etc/systemd/system/${name} && sudo systemctl daemon-reload && sudo systemctl enable --now ${name}`,
        );
    });
  render
    .command("traffic-manager")
    .description(
      "an ARM template of the Azure Traffic Manager profile in front of the regions (globalFront: azure-traffic-manager)",
    )
    .option("-o, --out <file>", "write to this file instead of stdout")
    .action(async (options: { readonly out?: string }) => {
      const loaded = context.config();
      const { front, regions } = azureFrontOf(loaded);
      const { renderTrafficManager } = await import("../../front/azure/render-traffic-manager.js");
      const rendered = renderTrafficManager({
        front,
        regions,
        healthPath: loaded.config.health.path,
        file: loaded.file,
      });
      // What Traffic Manager could not take as written goes to stderr, so stdout stays the template alone.
      for (const note of rendered.notes) process.stderr.write(`note: ${note}\n`);
      const json = `${JSON.stringify(rendered.template, null, 2)}\n`;
      if (!options.out) {
        process.stdout.write(json);
        return;
      }
      const path = resolve(options.out);
      writeFileSync(path, json);
      const endpoints = regions.length;
      context
        .output()
        .result(
          { written: path, profile: front.profile, endpoints, notes: rendered.notes },
          () => `wrote the Traffic Manager profile ${front.profile} with ${endpoints} endpoints to ${path}`,
        );
    });
}

function azureFrontOf(loaded: LoadedConfig): { front: AzureFrontConfig; regions: readonly RegionConfig[] } {
  const { globalFront, regions } = loaded.config;
  if (globalFront?.type !== "azure-traffic-manager" || regions === undefined)
    throw new CutoverError(
      "NO_TRAFFIC_MANAGER",
      `${loaded.file} needs \`globalFront: { type: azure-traffic-manager, subscriptionId, resourceGroup, profile }\` and regions: (each with an endpoint:) to render a Traffic Manager profile; add them`,
    );
  return { front: globalFront, regions };
}

function colourOption(value: string): Colour {
  if (isColour(value)) return value;
  throw new CutoverError("BAD_ARGUMENT", `--active expects blue or green, got "${value}"`);
}

function definedOnly(versions: Record<Colour, string | undefined>): Partial<Record<Colour, string>> {
  return Object.fromEntries(Object.entries(versions).filter(([, v]) => v !== undefined));
}
