import { type Logger, pino } from "pino";
import type { AnalysisConfig } from "../config/analysis-schema.js";
import type { AnalysisContext, AnalysisOutcome, DeployAnalysis } from "../engine/ports/deploy-analysis.js";
import { type AnalysisPhase, type AnalysisReport, type Measurement, runAnalysis } from "./analysis-run.js";
import type { ColourSampler } from "./colour-sampler.js";

/** Shadow traffic as the analysis asks for it (the built-in router's mirror takes this shape). */
export interface ShadowTraffic {
  /** Share of eligible requests copied, 0..1. */
  readonly share: number;
  /** Copies a second at most; undefined: no cap. */
  readonly maxPerSecond?: number | undefined;
  /** Methods copied, upper case. */
  readonly methods: readonly string[];
  /** Copies in flight at most. */
  readonly queueLimit: number;
  /** Time a copy has for its answer. */
  readonly timeoutMs: number;
}

/** What the analysis needs of the data plane: turning shadow traffic on and off. */
export interface MirrorSwitch {
  setMirror(options: ShadowTraffic | null): void;
}

/** An analysis report with the deploy it belongs to, for alerts and reports. */
export interface DeployAnalysisReport extends AnalysisReport {
  readonly deployId: string;
  readonly version: string;
}

export type AnalysisReportListener = (report: DeployAnalysisReport) => void;

export interface CutoverAnalysisOptions {
  readonly config: AnalysisConfig;
  /** Started by the owner (createDeployAnalysis) and kept running between deploys: its recent samples of
   * the old colour are the baseline after a switch when the old colour gets no mirrored traffic. */
  readonly sampler: ColourSampler;
  /** null when the data plane cannot mirror. */
  readonly mirror: MirrorSwitch | null;
  /**
   * Where the data plane cannot mirror but the idle colour has a preview address of its own (a Kubernetes
   * preview Service): before the switch, judge what reaches it there (testers, a load pointed at it). When
   * less than minRequests reached it by the first measurement, there is nothing to judge: skipped.
   */
  readonly previewJudge?: boolean;
  readonly logger?: Logger;
}

/**
 * The deploy analysis the engine calls. Before the switch (with mirror.share > 0), the new colour gets a
 * share of live idempotent requests as shadow traffic and is judged against the old colour serving the
 * same stream. After the switch, the copies go the other way: the old colour, still warm, gets the share
 * and is the baseline over the same moments; where it gets too little (mirroring off), its samples from
 * just before the switch are the baseline instead.
 */
export class CutoverAnalysis implements DeployAnalysis {
  readonly sampler: ColourSampler;
  readonly #config: AnalysisConfig;
  readonly #mirror: MirrorSwitch | null;
  readonly #previewJudge: boolean;
  readonly #log: Logger;
  readonly #listeners = new Set<AnalysisReportListener>();

  constructor(options: CutoverAnalysisOptions) {
    this.#config = options.config;
    this.sampler = options.sampler;
    this.#mirror = options.mirror;
    this.#previewJudge = options.previewJudge === true && options.mirror === null;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "analysis" });
  }

  get config(): AnalysisConfig {
    return this.#config;
  }

  /** Calls `listener` with every finished analysis. Returns the unsubscribe function. */
  onReport(listener: AnalysisReportListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Null (nothing to judge) unless preSwitch is on and the new colour gets traffic before the switch:
   * mirrored copies, or (previewJudge) requests through its preview address.
   */
  async preSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    if (!this.#config.preSwitch) return null;
    if (this.#previewJudge) return this.#throughPreview(context);
    if (this.#config.mirror.share <= 0 || this.#mirror === null) return null;
    return this.#run("pre-switch", context);
  }

  /**
   * The pre-switch judgement on preview traffic; skipped (null) when the first measurement saw less than
   * minRequests there (a few probes and smoke checks are no traffic to judge).
   */
  async #throughPreview(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    const idle = new AbortController();
    const signal = AbortSignal.any([context.signal, idle.signal]);
    const noTraffic = (m: Measurement) => m.index === 1 && m.canary.requests < this.#config.minRequests;
    const skipped = () => {
      this.#log.info(
        { deploy: context.deployId },
        "pre-switch analysis skipped: too few requests reached the new colour through its preview address",
      );
      return null;
    };
    try {
      const outcome = await this.#run("pre-switch", { ...context, signal }, (m) => {
        if (noTraffic(m)) idle.abort();
      });
      // A run that ended at its first measurement (count 1, a limit of 0) ends before it sees the abort.
      return idle.signal.aborted && !context.signal.aborted ? skipped() : outcome;
    } catch (error) {
      if (!idle.signal.aborted || context.signal.aborted) throw error;
      return skipped();
    }
  }

  async postSwitch(context: AnalysisContext): Promise<AnalysisOutcome | null> {
    return this.#run("post-switch", context);
  }

  /** Stops the sampler and any mirroring. */
  close(): void {
    this.#mirror?.setMirror(null);
    this.sampler.stop();
  }

  async #run(
    phase: AnalysisPhase,
    context: AnalysisContext,
    onMeasurement?: (measurement: Measurement) => void,
  ): Promise<AnalysisOutcome> {
    const mirror = this.#config.mirror;
    const mirroring = this.#mirror !== null && mirror.share > 0;
    if (!this.sampler.running) this.sampler.start();
    const now = Date.now();
    const baselineHistory =
      phase === "post-switch" ? this.sampler.samples(context.baseline).filter((s) => s.at <= now) : [];
    this.#log.info(
      { deploy: context.deployId, phase, canary: context.canary, baseline: context.baseline, mirroring },
      `${phase} analysis started`,
    );
    if (mirroring) {
      this.#mirror?.setMirror({
        share: mirror.share,
        maxPerSecond: mirror.maxPerSecond,
        methods: mirror.methods,
        queueLimit: mirror.queue,
        timeoutMs: mirror.timeout,
      });
    }
    let report: AnalysisReport;
    try {
      report = await runAnalysis({
        config: this.#config,
        sampler: this.sampler,
        phase,
        canary: context.canary,
        baseline: context.baseline,
        baselineHistory,
        signal: context.signal,
        onMeasurement: (m) => {
          this.#log.debug(
            { deploy: context.deployId, phase, measurement: m.index, status: m.status, detail: m.detail },
            "measurement",
          );
          onMeasurement?.(m);
        },
      });
    } finally {
      if (mirroring) this.#mirror?.setMirror(null);
    }
    const level = report.outcome.verdict === "Fail" ? "warn" : "info";
    this.#log[level](
      { deploy: context.deployId, phase, verdict: report.outcome.verdict, summary: report.outcome.summary },
      `${phase} analysis: ${report.outcome.verdict}`,
    );
    const full: DeployAnalysisReport = { ...report, deployId: context.deployId, version: context.version };
    for (const listener of this.#listeners) {
      try {
        listener(full);
      } catch (error) {
        this.#log.error({ err: error }, "an analysis listener threw");
      }
    }
    return report.outcome;
  }
}
