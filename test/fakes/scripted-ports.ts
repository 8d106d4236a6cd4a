/**
 * Stand-ins for the two ports whose real implementations cannot run in-process in a few milliseconds: the
 * DeployAnalysis (it needs a metrics source and a window of samples) and the DeployMigrator (it needs a
 * database). These are mocks, on purpose: they answer what the test scripts and record what they were asked,
 * so that a test can make any step fail and see what the engine does with it.
 */
import type { Colour } from "../../src/colour.js";
import type {
  AnalysisContext,
  AnalysisOutcome,
  DeployAnalysis,
  Verdict,
} from "../../src/engine/ports/deploy-analysis.js";
import type { DeployMigrator } from "../../src/engine/ports/deploy-migrator.js";
import { CutoverError } from "../../src/errors.js";

export type Judge = (
  when: "pre-switch" | "post-switch",
  context: AnalysisContext,
) => Verdict | null | Promise<Verdict | null>;

/**
 * The verdict from the version's name: "unsure-*" is Inconclusive before the switch (a pause for a person),
 * "postunsure-*" after it; "prefail-*" fails before the switch, "postfail-*" after it; "hold-*" never ends
 * its pre-switch analysis (a deploy that runs until it is aborted); any other passes.
 */
export const verdictByVersion: Judge = (when, { version }) => {
  if (when === "pre-switch" && version.startsWith("hold-")) return new Promise<never>(() => undefined);
  if (when === "pre-switch" && version.startsWith("unsure-")) return "Inconclusive";
  if (when === "post-switch" && version.startsWith("postunsure-")) return "Inconclusive";
  if (when === "pre-switch" && version.startsWith("prefail-")) return "Fail";
  if (when === "post-switch" && version.startsWith("postfail-")) return "Fail";
  return "Pass";
};

export class ScriptedAnalysis implements DeployAnalysis {
  readonly calls: Array<{ readonly when: "pre-switch" | "post-switch"; readonly deployId: string }> = [];

  constructor(readonly judge: Judge = verdictByVersion) {}

  preSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    return this.#run("pre-switch", context);
  }

  postSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    return this.#run("post-switch", context);
  }

  async #run(when: "pre-switch" | "post-switch", context: AnalysisContext): Promise<AnalysisOutcome | null> {
    this.calls.push({ when, deployId: context.deployId });
    const verdict = await this.judge(when, context);
    return verdict === null ? null : { verdict, summary: `scripted ${verdict} for ${context.version}` };
  }
}

export interface MigratorScript {
  /** expand() rejects with this message. */
  readonly failExpand?: string;
  /** checkSchema() (just before the switch) rejects with this message. */
  readonly failCheckSchema?: string;
}

export class ScriptedMigrator implements DeployMigrator {
  readonly calls: string[] = [];
  readonly sync = null;

  constructor(readonly script: MigratorScript = {}) {}

  async expand(version: string, _target: Colour, _signal: AbortSignal): Promise<string> {
    this.calls.push(`expand ${version}`);
    if (this.script.failExpand) throw new CutoverError("MIGRATION_FAILED", this.script.failExpand);
    return `applied nothing for ${version}`;
  }

  async colourEnv(colour: Colour, version: string): Promise<Readonly<Record<string, string>>> {
    this.calls.push(`env ${colour} ${version}`);
    return {};
  }

  async checkSchema(version: string): Promise<string> {
    this.calls.push(`check ${version}`);
    if (this.script.failCheckSchema)
      throw new CutoverError("SCHEMA_OUT_OF_RANGE", this.script.failCheckSchema);
    return "schema ok";
  }

  async contract(): Promise<string> {
    this.calls.push("contract");
    return "nothing to contract";
  }

  async close(): Promise<void> {}
}
