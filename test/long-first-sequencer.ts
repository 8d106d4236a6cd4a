import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The main project's longest files (measured: 30 to 110 s each on a quiet 2-core machine), longest first.
 * A fresh clone (CI) has no timings in vitest's cache, so vitest would run files in the order it found them
 * and leave a minute-long file for the end, with the other workers idle; started first, the long files
 * overlap the short ones. A file missing from the list only runs later: nothing depends on this order.
 */
const LONG_FIRST = [
  "test/router/tls.test.ts", // testssl: 25 s alone, 90 s beside the rest
  "test/dataplane/stop-and-adopt.test.ts",
  "test/fleet/fleet-front.test.ts",
  "test/fleet/fleet-cli.test.ts",
  "test/cli/cli.test.ts",
  "test/dataplane/kill-daemon.test.ts",
  "test/dataplane/upgrade.test.ts",
  "test/db/database-sync.test.ts",
  "test/engine/no-false-rollback.test.ts",
  "test/edge/edge.test.ts", // two services behind one edge, each its own cutover up: 40 to 55 s
  "test/install/pack-install.test.ts",
  "test/cli/watch-wait.test.ts",
  "test/kubernetes/promote-across-runners.test.ts",
  "test/fleet/fleet-traffic-manager.test.ts",
  "test/config/secrets.test.ts",
  "test/kubernetes/abandoned-deploy.test.ts",
  "test/engine/deploy.test.ts",
  "test/cli/pause.test.ts",
  "test/kubernetes/journal-config-maps.test.ts",
  "test/kubernetes/analysis.test.ts",
  "test/db/migrate-cli.test.ts",
  "test/cli/logs-offline.test.ts",
];

function rank(file: TestSpecification): number {
  const index = LONG_FIRST.findIndex((path) => file.moduleId.endsWith(path));
  return index === -1 ? LONG_FIRST.length : index;
}

/** vitest's own order (projects, cached timings), with the known long files of a project moved to its front. */
export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Projects keep vitest's order (groupOrder); within one, long files first, the rest as vitest had them.
    const projects = [...new Set(sorted.map((file) => file.project.name))];
    const position = new Map(sorted.map((file, index) => [file, index]));
    const key = (file: TestSpecification) => [projects.indexOf(file.project.name), rank(file)] as const;
    return [...sorted].sort((a, b) => {
      const [projectA, rankA] = key(a);
      const [projectB, rankB] = key(b);
      return projectA - projectB || rankA - rankB || (position.get(a) ?? 0) - (position.get(b) ?? 0);
    });
  }
}
