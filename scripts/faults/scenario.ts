/** What one fault scenario is given and what it gives back to the table. */
import type { Ledger } from "./invariants.ts";
import type { Rig } from "./rig.ts";
import type { Tally } from "./traffic.ts";

export interface ScenarioContext {
  rig: Rig;
  ledger: Ledger;
  short: boolean;
  log: (msg: string) => void;
}

export interface Outcome {
  /** What was sent, in a few words (the table's "traffic"). */
  traffic: string;
  answers: Tally;
  /** Documented behaviour the answers did not show (counted as breaches). */
  failures: string[];
  /** Set when (part of) the fault could not be injected for real here, and why. */
  notInjected?: string;
  /** Something the harness stood in for (said in the row). */
  note?: string;
}

export interface Scenario {
  id: number;
  fault: string;
  /** Part of `--short`. */
  short: boolean;
  run(ctx: ScenarioContext): Promise<Outcome>;
}
