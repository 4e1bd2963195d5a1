/**
 * `npm run faults`: the twelve faults of issue 11, each injected for real into the local stack
 * (scripts/faults/rig.ts: Postgres, Redis and Stripe behind proxies the harness breaks, the
 * Worker in a process it kills), with traffic through the public API, and the invariants of
 * shared/DESIGN.md checked after each (scripts/faults/invariants.ts). Prints one table and
 * writes it to .bench/faults-<date>.md; exits 1 on any breach.
 *
 *   npm run faults                     # all twelve
 *   npm run faults -- --short          # the subset CI runs (under ~3 min on 2 cores)
 *   npm run faults -- --only 3,8       # some of them
 *   npm run faults -- --port-base 8900 # ports base … base+13 (8900 by default)
 *
 * A fault that cannot be injected here says so in its row ("not injected: why").
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { errorMessage } from "../../src/lib/error-message.ts";
import { ROOT } from "../stack/dev-database.ts";
import { clocks, consumerThrows, cronTwice, lateSuccess, webhookStorm } from "./events.ts";
import {
  objectRestarted,
  postgresAtConfirm,
  postgresDuringFlush,
  redisDown,
  stripeDown,
  stripeSlow,
  workerKilled,
} from "./infra.ts";
import { checkInvariants, INVARIANTS, Ledger } from "./invariants.ts";
import { type Rig, startRig } from "./rig.ts";
import type { Outcome, Scenario } from "./scenario.ts";
import { Tally } from "./traffic.ts";

const SCENARIOS: Scenario[] = [
  postgresAtConfirm,
  postgresDuringFlush,
  redisDown,
  stripeDown,
  stripeSlow,
  webhookStorm,
  consumerThrows,
  workerKilled,
  objectRestarted,
  cronTwice,
  clocks,
  lateSuccess,
].sort((a, b) => a.id - b.id);

/** Payment window 30 min (the Worker's default) + the 5 min margin: the longest a hold may last. */
const HOLD_LIMIT_MS = 35 * 60_000 + 5_000;

const SKIPPED = "not in --short";
const started = Date.now();
const log = (msg: string) =>
  console.error(`[faults ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

interface Row {
  id: number;
  fault: string;
  outcome: Outcome | null;
  breaches: string[];
  seconds: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      short: { type: "boolean", default: false },
      only: { type: "string" },
      "port-base": { type: "string", default: "8900" },
    },
  });
  const portBase = Number(values["port-base"]);
  if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65_000) {
    throw new Error("--port-base must be a port number");
  }
  const only = values.only ? new Set(values.only.split(",").map((s) => Number(s.trim()))) : null;
  return { short: values.short, only, portBase };
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function table(rows: Row[]): string {
  const lines = [
    "| # | fault | traffic | answers by status | invariants held |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const o = r.outcome;
    const held =
      o?.traffic === SKIPPED
        ? "not run"
        : r.breaches.length === 0
          ? `all ${INVARIANTS.length}`
          : `**BREACH**: ${r.breaches.join("; ")}`;
    const traffic = o ? o.traffic : "-";
    const answers = o ? o.answers.toString() || "-" : "-";
    const note =
      (o?.notInjected ? ` (not injected: ${o.notInjected})` : "") +
      (o?.note ? ` (note: ${o.note})` : "");
    lines.push(
      `| ${r.id} | ${cell(r.fault + note)} | ${cell(`${traffic} [${r.seconds} s]`)} | ${cell(answers)} | ${cell(held)} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const opts = options();
  const chosen = SCENARIOS.filter((s) =>
    opts.only ? opts.only.has(s.id) : !opts.short || s.short,
  );
  const skipped = opts.only ? [] : SCENARIOS.filter((s) => !chosen.includes(s));
  log(`${chosen.length} faults: ${chosen.map((s) => s.id).join(", ")}`);
  let rig: Rig | null = null;
  const stopRig = async () => {
    const r = rig;
    rig = null;
    await r?.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void stopRig().finally(() => process.exit(130)));
  }
  const rows: Row[] = [];
  try {
    rig = await startRig({ portBase: opts.portBase, log });
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const ledger = new Ledger();
    // A breach stays until fixed: each row shows the ones that fault brought, not earlier ones.
    const reported = new Set<string>();
    const live: Rig = rig;
    for (const s of chosen) {
      const t0 = Date.now();
      log(`fault ${s.id}: ${s.fault}`);
      let outcome: Outcome | null = null;
      const breaches: string[] = [];
      try {
        outcome = await s.run({ rig: live, ledger, short: opts.short, log });
        breaches.push(...outcome.failures.map((f) => `expected: ${f}`));
      } catch (error) {
        breaches.push(`scenario failed: ${errorMessage(error)}`);
        // Whatever the scenario broke is put back before the next one.
        live.postgres("up");
        live.proxies.redis?.set("up");
        live.proxies.stripe.set("up");
        live.proxies.stripe.delay(0);
        await live.start().catch(() => {});
      }
      const checked = await checkInvariants(live, ledger, {
        holdLimitMs: HOLD_LIMIT_MS,
        sinceSec: Math.floor(t0 / 1000) - 2,
      });
      for (const b of checked.breaches) {
        const text = `${b.invariant}: ${b.detail}`;
        if (reported.has(text)) continue;
        reported.add(text);
        breaches.push(text);
      }
      const row: Row = {
        id: s.id,
        fault: s.fault,
        outcome,
        breaches,
        seconds: Math.round((Date.now() - t0) / 1000),
      };
      rows.push(row);
      log(
        `fault ${s.id}: ${row.seconds} s, ${outcome?.answers.toString() ?? "-"}; ${breaches.length === 0 ? "held" : `BREACH ${breaches.join("; ")}`}`,
      );
    }
  } catch (error) {
    rows.push({
      id: 0,
      fault: "the rig",
      outcome: null,
      breaches: [`could not run: ${errorMessage(error)}`],
      seconds: Math.round((Date.now() - started) / 1000),
    });
  } finally {
    await stopRig();
  }
  for (const s of skipped) {
    rows.push({
      id: s.id,
      fault: s.fault,
      outcome: {
        traffic: SKIPPED,
        answers: new Tally(),
        failures: [],
      },
      breaches: [],
      seconds: 0,
    });
  }
  rows.sort((a, b) => a.id - b.id);

  const total = Math.round((Date.now() - started) / 1000);
  const date = new Date().toISOString().slice(0, 10);
  const breached = rows.filter((r) => r.breaches.length > 0).length;
  const md = [
    `# npm run faults${opts.short ? " -- --short" : ""}: ${new Date().toISOString()}`,
    "",
    `Invariants checked after each fault: ${INVARIANTS.join(", ")}.`,
    "",
    table(rows),
    "",
    `${rows.length - breached} held, ${breached} breached; ${total} s in all.`,
    "",
  ].join("\n");
  const dir = path.join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `faults-${date}${opts.short ? "-short" : ""}.md`);
  writeFileSync(file, md);
  console.log(md);
  log(`written to ${path.relative(ROOT, file)}`);
  return breached > 0 ? 1 : 0;
}

process.exit(await main());
