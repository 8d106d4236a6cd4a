import { CutoverError } from "../../errors.js";
import { daemonRestart } from "./daemon-restart.js";
import { errorsAfterSwitch } from "./errors-after-switch.js";
import { FAULT_NAMES, type Fault, type FaultName, type FaultSettings } from "./fault.js";
import { killReplica } from "./kill-replica.js";
import { longRequest } from "./long-request.js";
import { slowStart } from "./slow-start.js";
import { unhealthyNew } from "./unhealthy-new.js";
import { websocketHeld } from "./websocket-held.js";

const FAULTS: Readonly<Record<FaultName, Fault>> = {
  "kill-replica": killReplica,
  "unhealthy-new": unhealthyNew,
  "slow-start": slowStart,
  "errors-after-switch": errorsAfterSwitch,
  "long-request": longRequest,
  websocket: websocketHeld,
  "daemon-restart": daemonRestart,
};

/** The flag that names the version a fault needs. */
const NEEDS_FLAG: Readonly<Record<NonNullable<Fault["needs"]>, string>> = {
  unhealthyVersion: "--unhealthy-version <v> (a version whose health check fails)",
  slowVersion: "--slow-version <v> (a version that takes a few seconds to become healthy)",
  erroringVersion: "--erroring-version <v> (a version that passes its health check but answers 5xx)",
};

/** "kill-replica,websocket" or "all" -> the faults, in the order given; refuses unknown names and missing versions. */
export function selectFaults(list: string, settings: FaultSettings): Fault[] {
  const names =
    list.trim() === "all"
      ? [...FAULT_NAMES]
      : list
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean);
  const faults = names.map((name) => {
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new CutoverError(
        "BAD_FAULT",
        `--faults: unknown fault "${name}"; expected "all" or some of ${FAULT_NAMES.join(", ")}`,
      );
    }
    return FAULTS[name as FaultName];
  });
  for (const fault of faults) {
    if (fault.needs && settings[fault.needs] === undefined) {
      throw new CutoverError(
        "FAULT_NEEDS_VERSION",
        `the ${fault.name} fault needs ${NEEDS_FLAG[fault.needs]}; build one (for the demo app: a release with FAIL_HEALTH=1, SLOW_START_S=3 or ERROR_RATIO=1) and name it`,
      );
    }
  }
  return faults;
}
