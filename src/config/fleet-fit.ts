import type { Config } from "./schema.js";

/**
 * What a fleet's sections must agree on, beyond each field's own shape: every wave names known regions, each
 * region in one wave only; a region has one target that fits the platform; the global front has an endpoint
 * for each region. Each problem says what to write instead.
 */
export function fleetMisfits(config: Config): string[] {
  const regions = config.regions;
  if (!regions) {
    return [
      ...(config.waves
        ? ["waves: needs regions: (the regions the waves name); leave waves out for one region"]
        : []),
      ...(config.globalFront ? ["globalFront: needs regions: (the regions it sends users to)"] : []),
    ];
  }
  const problems: string[] = [];
  const names = regions.map((r) => r.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0)
    problems.push(`regions: ${quoted(twice)} named twice; each region needs a name of its own`);
  regions.forEach((region, i) => {
    problems.push(...regionMisfits(config, region, i));
  });
  if (config.waves) {
    const seen = new Map<string, number>();
    config.waves.forEach((wave, w) => {
      for (const name of wave.regions) {
        if (!names.includes(name))
          problems.push(`waves[${w}]: no region "${name}" in regions: (regions are ${quoted(names)})`);
        else if (seen.has(name))
          problems.push(
            `waves[${w}]: region "${name}" is already in waves[${seen.get(name)}]; a region deploys once`,
          );
        else seen.set(name, w);
      }
    });
    const missing = names.filter((name) => !seen.has(name));
    if (missing.length > 0)
      problems.push(
        `waves: ${quoted(missing)} in no wave; add them to a wave (or leave waves out: one region at a time)`,
      );
  }
  if (config.globalFront?.drainDuringDeploy) {
    const waves = config.waves ?? regions.map((r) => ({ regions: [r.name] }));
    const whole = waves.findIndex((wave) => names.every((name) => wave.regions.includes(name)));
    if (whole >= 0)
      problems.push(
        `globalFront.drainDuringDeploy: ${config.waves ? `waves[${whole}] holds` : "the only region is"} every region, so all of them would be out of the front at once and users would reach none; split the waves, or set drainDuringDeploy: false`,
      );
  }
  if (config.globalFront) {
    const without = regions.filter((r) => r.endpoint === undefined).map((r) => r.name);
    if (without.length > 0)
      problems.push(
        `globalFront: regions ${quoted(without)} have no endpoint; set regions[].endpoint to where each serves its users`,
      );
  }
  return problems;
}

function regionMisfits(config: Config, region: NonNullable<Config["regions"]>[number], i: number): string[] {
  const at = `regions[${i}] (${region.name})`;
  const kube = config.platform === "kubernetes";
  if (kube) {
    if (region.admin)
      return [
        `${at}: admin: is for a region run by a cutover daemon (platform: local); on Kubernetes write kubernetes: { context, namespace }`,
      ];
    return [];
  }
  const problems: string[] = [];
  if (!region.admin)
    problems.push(
      `${at}: needs admin: { url, token }, the region's cutover admin API (or platform: kubernetes with kubernetes: { context })`,
    );
  if (region.kubernetes) problems.push(`${at}: kubernetes: needs platform: kubernetes`);
  for (const field of ["replicas", "autoscaling"] as const)
    if (region[field] !== undefined)
      problems.push(
        `${at}: ${field}: is set in that region's own cutover.yaml (its daemon reads it), not here`,
      );
  return problems;
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");
