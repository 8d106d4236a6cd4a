import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { LoadedConfig } from "../../config/load.js";
import { JournalNotFoundError, journalPath, latestJournalId } from "../../report/deploy-journal.js";
import { attachedReportDir } from "../../report/report-location.js";
import { journalShelfFor } from "../journal-shelf-for-config.js";
import type { Output } from "../output.js";

export interface ReportCommandContext {
  readonly config: () => LoadedConfig;
  readonly output: () => Output;
}

/** `cutover report [deploy-id]`: (re)writes a deploy's HTML and PNG report from its journal. */
export function registerReportCommand(program: Command, context: ReportCommandContext): void {
  program
    .command("report")
    .description("write the HTML + PNG report of a deploy (default: the latest) and print where")
    .argument("[deploy-id]", "the deploy, as `cutover history` names it (d3, r4, ...)")
    .option("--out <dir>", "write the report here instead of the configured report folder")
    .action(async (deployId: string | undefined, options: { out?: string }) => {
      const loaded = context.config();
      const id = await journalOnDisk(loaded, deployId);
      const { writeReport } = await import("../../report/write-report.js"); // the chart renderer: load it only here
      const written = await writeReport(
        journalPath(loaded.stateDir, id),
        options.out ?? attachedReportDir(loaded),
      );
      context
        .output()
        .result({ deploy: id, ...written }, () => `report of ${id}:\n  ${written.html}\n  ${written.png}`);
    });
}

/**
 * The deploy to report on (default: the latest), once its journal is on disk. On Kubernetes this runner may
 * not have run it: the latest is the cluster's, and a journal missing here is fetched from the cluster.
 */
async function journalOnDisk(loaded: LoadedConfig, asked: string | undefined): Promise<string> {
  if (asked !== undefined && existsSync(journalPath(loaded.stateDir, asked))) return asked;
  const shelf = await journalShelfFor(loaded);
  const newestInCluster = async () => {
    try {
      return (await shelf?.latest()) ?? null;
    } catch (error) {
      process.stderr.write(
        `cutover: could not list the deploy journals in the cluster (${(error as Error).message}); using the newest in ${loaded.stateDir}\n`,
      );
      return null;
    }
  };
  const id = asked ?? (await newestInCluster()) ?? latestJournalId(loaded.stateDir);
  const also = (deployId: string | null) => (shelf ? ` nor in the cluster (${shelf.where(deployId)})` : "");
  if (id === null)
    throw new JournalNotFoundError(`no deploy has been recorded in ${loaded.stateDir}${also(null)} yet`);
  const path = journalPath(loaded.stateDir, id);
  if (existsSync(path) || (await shelf?.get(id, path))) return id;
  throw new JournalNotFoundError(`no deploy journal at ${path}${also(id)}`);
}
