/**
 * `npm run bench:stock`: a flash sale on one hot product, two designs side by side, against the
 * same local Postgres behind the same delaying proxy (the RTT between the app and its database):
 *
 * - Souk: N concurrent buyers each buying one unit through the real HTTP API, `POST
 *   /v1/checkout/confirm` with `items` (buy now), on the Worker under `wrangler dev`: auth, rate
 *   limit, Idempotency-Key, the reservation in the product's Durable Object, checkout + order +
 *   items + audit rows in one Postgres transaction, one PaymentIntent on the Stripe emulator.
 *   The stock mirror is written behind by the object's alarm, never on the buyer's path.
 * - row lock, same work: the seeds' design doing what Souk's route does (idempotency record, the
 *   buyer and price plan read, SELECT … FOR UPDATE, order + items + audit rows one statement at
 *   a time, a PaymentIntent on the same Stripe emulator) from a `pg` Pool in a Node service: the
 *   ratio to Souk measures the stock design alone.
 * - row lock, minimal: BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT order; COMMIT, nothing else.
 *
 * Every design's Postgres traffic crosses the same delaying proxy (./delay-proxy.ts), which adds
 * the RTT and counts round trips. For the Worker it sits on the Worker→bridge hop (the Neon
 * driver's WebSocket) and the Worker→SQL-over-HTTP-endpoint hop when the stack has one: in
 * production both Neon front ends sit next to Postgres, the Worker is the one far away. Per step
 * the table gives round trips and new connections per answered purchase, and the server's CPU
 * ms per answered purchase (workerd and its children for Souk, from /proc; the Node service for
 * the row locks). For N = 1 it fits p50 ≈ a + k·RTT and prints `k = …`.
 *
 * Sweeps N × RTT and prints one table. Hard gate: zero oversell (orders = units sold =
 * successful answers, stock never negative) after every step; a breach is printed loudly and
 * the run exits 1. The load runs in its own process on the other core when `taskset` allows.
 *
 *   npm run bench:stock -- --quick
 *   npm run bench:stock -- --n 1,64 --rtt 0,20 --units 10000 --purchases 2000 --duration 5
 *   npm run bench:stock -- --rate 300          (a fixed arrival rate, purchases/s)
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { ROOT } from "../stack/dev-database.ts";
import { redact, type Stack, startStack } from "../stack/stack.ts";
import { type StripeEmulator, startStripeEmulator } from "../stripe-emulator/emulator.ts";
import {
  type Child,
  canPin,
  commandLine,
  descendantsNamed,
  messageOf,
  pinSelf,
  startChild,
  treeCpuMs,
} from "./children.ts";
import {
  classicTally,
  createClassicTables,
  fullTally,
  insertClassicBuyers,
  stockClassicProduct,
  stockFullProduct,
} from "./classic.ts";
import type { ProxyCounts } from "./delay-proxy.ts";
import type { LoadPlan, LoadResult, PreparedRequest } from "./load.ts";
import { type Design, LABEL, type StepRow, slopeLines, slopes, table } from "./report.ts";
import {
  type BenchShop,
  insertBuyers,
  seedShop,
  signTokens,
  soukTally,
  startWorker,
  stockedProduct,
  stockLevels,
  type Worker,
} from "./souk.ts";

const HERE = path.join(ROOT, "scripts", "bench");
const log = (msg: string) => console.error(`[bench] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  ns: number[];
  rtts: number[];
  units: number;
  /** Most purchases one step sends (each by a buyer of its own). */
  purchases: number;
  /** No new purchase starts after this; those in flight are always waited for. */
  durationMs: number;
  ratePerSec: number | null;
  pgConnections: number;
  designs: Design[];
}

const HELP = `npm run bench:stock -- [options]
  --quick              a smoke sweep: N 1,8,64 × RTT 0,5, 200 units, up to 300 purchases, 3 s
  --n 1,8,64,256,1024  concurrent buyers per step
  --rtt 0,1,5,20       app↔Postgres round trip added by the delaying proxy, ms
  --units 10000        units of the hot product at the start of each step (a fresh product)
  --purchases 3000     most purchases per step
  --duration 5         seconds a step keeps starting purchases (in-flight ones are waited for)
  --rate 300           a fixed arrival rate, purchases/s (default: closed loop, as fast as served)
  --pg-connections 40  Postgres connections each design may hold (bridge cap = row-lock pool)
  --designs souk,same-work,classic  which designs to run (classic = the minimal row lock)

Columns: round trips = client→server bursts answered by the server, counted at the delaying
proxy over the step ÷ answered purchases; conns = new connections through it ÷ purchases;
CPU ms = the server's CPU time over the step ÷ purchases (workerd and its children for Souk).
For N = 1 over two or more RTTs: k = slope of p50 against the measured RTT.`;

function numbers(flag: string, value: string): number[] {
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`--${flag} takes a comma-separated list of numbers, got "${value}"`);
  }
  return list;
}

function positive(flag: string, value: string): number {
  const v = Number(value);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${flag} must be a positive number`);
  return v;
}

const DESIGNS = new Set<string>(["souk", "same-work", "classic"]);

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      n: { type: "string" },
      rtt: { type: "string" },
      units: { type: "string" },
      purchases: { type: "string" },
      duration: { type: "string" },
      rate: { type: "string" },
      "pg-connections": { type: "string" },
      designs: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const ns = values.n ? numbers("n", values.n) : quick ? [1, 8, 64] : [1, 8, 64, 256, 1024];
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--n: whole numbers ≥ 1");
  const envCap = process.env.SOUK_PG_MAX_CONNECTIONS;
  const designs = (values.designs ?? "souk,same-work,classic").split(",").map((d) => d.trim());
  if (designs.length === 0 || designs.some((d) => !DESIGNS.has(d))) {
    throw new Error("--designs takes souk, same-work and classic (the minimal row lock)");
  }
  return {
    designs: designs as Design[],
    quick,
    ns,
    rtts: values.rtt ? numbers("rtt", values.rtt) : quick ? [0, 5] : [0, 1, 5, 20],
    units: Math.floor(values.units ? positive("units", values.units) : quick ? 200 : 10_000),
    purchases: Math.floor(
      values.purchases ? positive("purchases", values.purchases) : quick ? 300 : 3_000,
    ),
    durationMs: (values.duration ? positive("duration", values.duration) : quick ? 3 : 5) * 1000,
    ratePerSec: values.rate ? positive("rate", values.rate) : null,
    pgConnections: Math.floor(
      values["pg-connections"]
        ? positive("pg-connections", values["pg-connections"])
        : envCap
          ? positive("SOUK_PG_MAX_CONNECTIONS", envCap)
          : 40,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// The run

interface Rig {
  stack: Stack;
  stripe: StripeEmulator;
  pool: pg.Pool;
  proxy: Child;
  proxiedUrl: string;
  worker: Worker;
  /** The workerd processes running the Worker (CPU is read from them and their children). */
  workerdPids: number[];
  classic: Child;
  classicUrl: string;
  load: Child;
  shop: BenchShop;
  jwtSecret: string;
  pinned: boolean;
}

/** Proxy names whose traffic is the Worker's: the WebSocket bridge and the HTTP endpoint. */
const WORKER_HOPS = ["ws", "http"];
/** The row-lock services' hop, straight to Postgres. */
const PG_HOP = ["pg"];

type CountsMessage = { type: "counts"; counts: Record<string, ProxyCounts> };

async function proxyCounts(rig: Rig): Promise<Record<string, ProxyCounts>> {
  rig.proxy.send({ type: "counts" });
  const { counts } = await rig.proxy.next(messageOf<CountsMessage>("counts"));
  return counts;
}

/** `after - before`, summed over the hops named. */
function countsBetween(
  before: Record<string, ProxyCounts>,
  after: Record<string, ProxyCounts>,
  names: string[],
): ProxyCounts {
  const sum: ProxyCounts = { roundTrips: 0, connections: 0, bytesUp: 0, bytesDown: 0 };
  for (const name of names) {
    const a = after[name];
    const b = before[name];
    if (!a || !b) continue;
    sum.roundTrips += a.roundTrips - b.roundTrips;
    sum.connections += a.connections - b.connections;
    sum.bytesUp += a.bytesUp - b.bytesUp;
    sum.bytesDown += a.bytesDown - b.bytesDown;
  }
  return sum;
}

interface Meter {
  counts: ProxyCounts;
  /** Round trips per hop (ws, http; pg), for the log. */
  byHop: Record<string, number>;
  cpuMs: number;
}

/** Round trips and CPU from here on, for one design's server. */
async function meter(rig: Rig, design: Design): Promise<() => Promise<Meter>> {
  const hops = design === "souk" ? WORKER_HOPS : PG_HOP;
  const pids =
    design === "souk" ? rig.workerdPids : rig.classic.process.pid ? [rig.classic.process.pid] : [];
  const before = await proxyCounts(rig);
  const cpuBefore = treeCpuMs(pids);
  return async () => {
    const cpuMs = treeCpuMs(pids) - cpuBefore;
    const after = await proxyCounts(rig);
    const byHop = Object.fromEntries(
      hops.filter((h) => after[h]).map((h) => [h, countsBetween(before, after, [h]).roundTrips]),
    );
    return { cpuMs, byHop, counts: countsBetween(before, after, hops) };
  };
}

interface StepOutcome {
  row: StepRow;
  failures: string[];
  samples: string[];
  /** With a fixed rate: how far behind its schedule the generator fell, ms. */
  lagMs: number;
}

type ReadyMessage = { type: "ready"; port?: number; ports?: Record<string, number> };
type ResultMessage = { type: "result"; result: LoadResult };
type FailedMessage = { type: "failed"; error: string };

async function runLoad(rig: Rig, plan: LoadPlan): Promise<LoadResult> {
  rig.load.send({ type: "run", plan });
  const answer = await rig.load.next(
    (m): m is ResultMessage | FailedMessage =>
      messageOf<ResultMessage>("result")(m) || messageOf<FailedMessage>("failed")(m),
  );
  if (answer.type === "failed") throw new Error(`load generator: ${answer.error}`);
  return answer.result;
}

async function setRtt(rig: Rig, ms: number): Promise<void> {
  rig.proxy.send({ type: "rtt", ms });
  await rig.proxy.next(
    (m): m is { type: "rtt-set"; ms: number } =>
      messageOf<{ type: "rtt-set"; ms: number }>("rtt-set")(m) && (m as { ms: number }).ms === ms,
  );
}

/** The median of 30 `SELECT 1` round trips through the proxy, ms: the RTT the designs get. */
async function measureRtt(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("select 1");
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await client.query("select 1");
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? Number.NaN;
  } finally {
    await client.end().catch(() => {});
  }
}

function count(result: LoadResult, pick: (key: string) => boolean): number {
  return Object.entries(result.outcomes)
    .filter(([k]) => pick(k))
    .reduce((a, [, v]) => a + v, 0);
}

const isOk = (k: string) => /^2\d\d$/.test(k);
const isSoldOut = (k: string) => k === "409:INSUFFICIENT_STOCK";

/** Waits until the object's outbox is empty; seconds it took, or null if it did not in time. */
async function mirrorCatchUp(
  rig: Rig,
  sellerToken: string,
  productId: string,
): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < 180_000) {
    const levels = await stockLevels(rig.worker.url, sellerToken, productId, rig.shop.branchId);
    if (levels.pendingMirror === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

async function soukStep(rig: Rig, opts: Options, rttMs: number, n: number): Promise<StepOutcome> {
  // Tokens live 15 minutes, as the Worker's do: sign them per step.
  const [sellerToken = ""] = await signTokens([rig.shop.sellerId], "seller", rig.jwtSecret);
  const productId = await stockedProduct(
    rig.worker.url,
    sellerToken,
    rig.shop,
    opts.units,
    `Flash sale RTT ${rttMs} N ${n}`,
  );
  const db = drizzle({ client: rig.pool, schema });
  const buyers = await insertBuyers(db, opts.purchases);
  const tokens = await signTokens(buyers, "buyer", rig.jwtSecret);
  const body = JSON.stringify({
    items: [{ productId, quantity: 1 }],
    fulfilment: [{ shopId: rig.shop.id, method: "pickup", locationId: rig.shop.branchId }],
  });
  const requests: PreparedRequest[] = tokens.map((token) => ({
    headers: { authorization: `Bearer ${token}`, "idempotency-key": randomUUID() },
    body,
  }));
  const stop = await meter(rig, "souk");
  const result = await runLoad(rig, {
    url: `${rig.worker.url}/v1/checkout/confirm`,
    requests,
    connections: n,
    durationMs: opts.durationMs,
    ratePerSec: opts.ratePerSec,
    timeoutMs: 300_000,
  });
  const measured = await stop();
  const mirrorSeconds = await mirrorCatchUp(rig, sellerToken, productId);
  const levels = await stockLevels(rig.worker.url, sellerToken, productId, rig.shop.branchId);
  const tally = await soukTally(rig.pool, productId);

  const ok = count(result, isOk);
  // Units the object gave out: held for the pending orders, or sold (on hand went down).
  const sold = levels.reserved + (opts.units - levels.onHand);
  const failures: string[] = [];
  if (tally.liveUnits !== sold || sold !== ok) {
    failures.push(
      `orders (${tally.liveUnits} units in ${tally.live} pending orders) = units sold by the ` +
        `object (${sold}) = successful answers (${ok}) does not hold`,
    );
  }
  if (levels.available < 0 || levels.onHand < 0 || levels.available !== opts.units - sold) {
    failures.push(`stock went wrong: ${JSON.stringify(levels)} for ${opts.units} units`);
  }
  if (mirrorSeconds !== null && tally.mirrored !== levels.sequence) {
    failures.push(
      `the mirror holds ${tally.mirrored} movements for sequence ${levels.sequence} (lost or doubled)`,
    );
  }
  const oversold = Math.max(0, tally.liveUnits - opts.units, sold - opts.units, -levels.available);
  return {
    row: stepRow("souk", rttMs, n, result, measured, ok, oversold, mirrorSeconds, !failures.length),
    failures,
    samples: result.samples,
    lagMs: result.maxLagMs,
  };
}

async function classicStep(
  rig: Rig,
  opts: Options,
  rttMs: number,
  n: number,
): Promise<StepOutcome> {
  const productId = uuidv7();
  await stockClassicProduct(rig.pool, productId, opts.units);
  const requests: PreparedRequest[] = Array.from({ length: opts.purchases }, () => ({
    headers: { "idempotency-key": randomUUID() },
    body: JSON.stringify({ productId, buyerId: uuidv7() }),
  }));
  const stop = await meter(rig, "classic");
  const result = await runLoad(rig, {
    url: `${rig.classicUrl}/purchases`,
    requests,
    connections: n,
    durationMs: opts.durationMs,
    ratePerSec: opts.ratePerSec,
    timeoutMs: 300_000,
  });
  const measured = await stop();
  const tally = await classicTally(rig.pool, productId);
  const ok = count(result, isOk);
  const sold = opts.units - tally.onHand;
  const failures: string[] = [];
  if (tally.unitsOrdered !== sold || sold !== ok) {
    failures.push(
      `orders (${tally.unitsOrdered} units in ${tally.orders} orders) = units sold ` +
        `(${sold}) = successful answers (${ok}) does not hold`,
    );
  }
  if (tally.onHand < 0) failures.push(`on hand went negative: ${tally.onHand}`);
  const oversold = Math.max(0, tally.unitsOrdered - opts.units, -tally.onHand);
  return {
    row: stepRow("classic", rttMs, n, result, measured, ok, oversold, null, !failures.length),
    failures,
    samples: result.samples,
    lagMs: result.maxLagMs,
  };
}

/** The row lock doing Souk's work: buy now of one unit through the service's confirm route. */
async function sameWorkStep(
  rig: Rig,
  opts: Options,
  rttMs: number,
  n: number,
): Promise<StepOutcome> {
  const productId = uuidv7();
  const locationId = rig.shop.branchId;
  await stockFullProduct(rig.pool, {
    productId,
    shopId: rig.shop.id,
    locationId,
    units: opts.units,
  });
  const buyers = Array.from({ length: opts.purchases }, () => uuidv7());
  await insertClassicBuyers(rig.pool, buyers);
  const body = JSON.stringify({ productId, locationId, quantity: 1 });
  const requests: PreparedRequest[] = buyers.map((buyerId) => ({
    headers: { "idempotency-key": randomUUID(), "x-buyer-id": buyerId },
    body,
  }));
  const stop = await meter(rig, "same-work");
  const result = await runLoad(rig, {
    url: `${rig.classicUrl}/checkout/confirm`,
    requests,
    connections: n,
    durationMs: opts.durationMs,
    ratePerSec: opts.ratePerSec,
    timeoutMs: 300_000,
  });
  const measured = await stop();
  const tally = await fullTally(rig.pool, productId);
  const ok = count(result, isOk);
  const { reserved, onHand } = tally;
  const sold = reserved + (opts.units - onHand);
  const failures: string[] = [];
  if (tally.unitsOrdered !== sold || sold !== ok || tally.intents !== ok) {
    failures.push(
      `orders (${tally.unitsOrdered} units in ${tally.orders} orders, ${tally.intents} ` +
        `PaymentIntents) = units reserved (${sold}) = successful answers (${ok}) does not hold`,
    );
  }
  if (onHand - reserved < 0) failures.push(`available went negative: ${onHand - reserved}`);
  const oversold = Math.max(0, tally.unitsOrdered - opts.units, reserved - onHand);
  return {
    row: stepRow("same-work", rttMs, n, result, measured, ok, oversold, null, !failures.length),
    failures,
    samples: result.samples,
    lagMs: result.maxLagMs,
  };
}

function stepRow(
  design: Design,
  rttMs: number,
  n: number,
  result: LoadResult,
  measured: Meter,
  ok: number,
  oversold: number,
  mirrorSeconds: number | null,
  gate: boolean,
): StepRow {
  const soldOut = count(result, isSoldOut);
  const answered = Math.max(1, result.started);
  return {
    design,
    rttMs,
    n,
    perSecond: result.elapsedMs > 0 ? ok / (result.elapsedMs / 1000) : 0,
    p50: result.okLatency.p50,
    p99: result.okLatency.p99,
    p999: result.okLatency.p999,
    sold: ok,
    soldOut,
    errors: result.started - ok - soldOut,
    oversold,
    roundTrips: measured.counts.roundTrips / answered,
    hops: hopText(measured.byHop, answered),
    connections: measured.counts.connections / answered,
    cpuMs: measured.cpuMs / answered,
    mirrorSeconds,
    load1: loadavg()[0] ?? 0,
    gate,
  };
}

/** A few purchases on each design run, at RTT 0, before measuring: JIT, isolates, pools warm. */
async function warmUp(rig: Rig, designs: Design[]): Promise<void> {
  const opts: Options = {
    quick: true,
    ns: [4],
    rtts: [0],
    units: 50,
    purchases: 40,
    durationMs: 10_000,
    ratePerSec: null,
    pgConnections: 0,
    designs,
  };
  for (const design of designs) {
    const s =
      design === "souk"
        ? await soukStep(rig, opts, 0, 4)
        : design === "same-work"
          ? await sameWorkStep(rig, opts, 0, 4)
          : await classicStep(rig, opts, 0, 4);
    if (s.failures.length > 0 || s.row.sold === 0) {
      throw new Error(
        `warm-up failed for ${s.row.design}: ${[...s.failures, ...s.samples].join("; ")}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Round trips per purchase on each hop, e.g. `ws 3.0 + http 2.0`. */
function hopText(byHop: Record<string, number>, answered: number): string {
  return Object.entries(byHop)
    .map(([hop, rt]) => `${hop} ${(rt / Math.max(1, answered)).toFixed(1)}`)
    .join(" + ");
}

/** `host:port` out of an address or URL (`127.0.0.1:5000`, `http://localhost:5000/sql`). */
function hostPort(address: string): { host: string; port: number } | null {
  const m = /(?:^|\/\/)(\[[^\]]+\]|[\w.-]+):(\d+)/.exec(address);
  if (!m?.[1] || !m[2]) return null;
  return { host: m[1], port: Number(m[2]) };
}

/** The commit the Worker was built from, and whether the tree had changes on top. */
function revision(): string {
  const sha = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "src", "durable-objects"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const head = sha.stdout.trim() || "unknown";
  return dirty.stdout.trim()
    ? `${head} with uncommitted changes under src/ or durable-objects/`
    : head;
}

function machine(): string[] {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return [
    `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, loopback only`,
    `Node ${process.version}`,
  ];
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const loadBefore = loadavg();
  const pinned = canPin() && pinSelf(0);
  log(
    pinned
      ? "servers pinned to core 0 (this process with wrangler, the bridges and the Stripe " +
          "emulator; workerd; the classic service); the load generator and the delaying proxy " +
          "on core 1. Postgres and Redis are system services and stay unpinned."
      : "taskset or a second core is not available: nothing is pinned",
  );

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  };
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const rows: StepRow[] = [];
  const failures: string[] = [];
  const rttMeasured = new Map<number, number>();
  let rig: Rig | null = null;
  try {
    const stack = await startStack({
      mode: "test",
      log: (m) => log(`stack: ${m}`),
      env: { ...process.env, SOUK_PG_MAX_CONNECTIONS: String(opts.pgConnections) },
    });
    cleanups.push(() => stack.stop());
    if (!stack.neonLocalWsProxy) {
      throw new Error("the benchmark needs Postgres on this machine (DATABASE_URL is remote)");
    }
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 3 });
    pool.on("error", () => {});
    cleanups.push(() => pool.end());
    await createClassicTables(pool);
    const { rows: version } = await pool.query<{ v: string }>(
      "select current_setting('server_version') as v",
    );
    const pgVersion = version[0]?.v ?? "?";

    const stripe = await startStripeEmulator({ port: 0 });
    cleanups.push(() => stripe.stop());

    const target = new URL(stack.databaseUrl);
    // Neon's SQL-over-HTTP endpoint, when the stack serves one (NEON_LOCAL_HTTP for the Worker).
    const httpEndpoint = (stack as Stack & { neonLocalHttp?: string }).neonLocalHttp ?? "";
    const httpTarget = hostPort(httpEndpoint);
    const wsTarget = hostPort(stack.neonLocalWsProxy);
    if (!wsTarget) throw new Error(`no WebSocket bridge address in "${stack.neonLocalWsProxy}"`);
    // The proxy stands in for the network, so it runs beside the load generator rather than
    // taking CPU from the servers (and its timers fire later on the servers' busy core). One
    // listener per hop, one RTT for all: the row locks' pg Pool → Postgres, and the Worker →
    // the WebSocket bridge and → the HTTP endpoint, which both reach Postgres directly.
    const proxy = startChild(path.join(HERE, "proxy-process.ts"), {
      name: "proxy",
      args: [
        `pg=${target.hostname}:${target.port || 5432}`,
        `ws=${wsTarget.host}:${wsTarget.port}`,
        ...(httpTarget ? [`http=${httpTarget.host}:${httpTarget.port}`] : []),
      ],
      cpu: pinned ? 1 : null,
    });
    cleanups.push(() => proxy.stop());
    const proxyReady = await proxy.next(messageOf<ReadyMessage>("ready"), 30_000);
    const portOf = (name: string) => {
      const port = proxyReady.ports?.[name];
      if (!port) throw new Error(`the proxy has no ${name} listener`);
      return port;
    };
    const proxied = new URL(stack.databaseUrl);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(portOf("pg"));
    const proxiedUrl = proxied.toString();

    const jwtSecret = randomBytes(32).toString("base64url");
    const benchDir = path.join(ROOT, ".bench");
    mkdirSync(benchDir, { recursive: true });
    const stamp = startedAt
      .toISOString()
      .replace(/:\d\d\.\d+Z$/, "")
      .replace(":", "");
    const persistTo = mkdtempSync(path.join(tmpdir(), "souk-bench-"));
    cleanups.push(async () => rmSync(persistTo, { recursive: true, force: true }));
    const vars: Record<string, string> = {
      ENVIRONMENT: "development",
      // Straight to Postgres: the bridge and the HTTP endpoint dial it from next door, and the
      // delay sits on the Worker's side of them.
      DATABASE_URL: stack.databaseUrl,
      NEON_LOCAL_WS_PROXY: `127.0.0.1:${portOf("ws")}`,
      JWT_SECRET: jwtSecret,
      PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
      STRIPE_API_BASE: stripe.url,
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
      STRIPE_CONNECT_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
      LOG_LEVEL: "warn",
    };
    // Neon's HTTP mode, through the proxy too (the endpoint itself dials Postgres from next door).
    if (httpTarget) {
      vars.NEON_LOCAL_HTTP = httpEndpoint.replace(
        `${httpTarget.host}:${httpTarget.port}`,
        `127.0.0.1:${portOf("http")}`,
      );
    }
    if (stack.redisRest) {
      vars.UPSTASH_REDIS_REST_URL = stack.redisRest.url;
      vars.UPSTASH_REDIS_REST_TOKEN = stack.redisRest.token;
    }
    log("starting the Worker (wrangler's unstable_startWorker: workerd, Durable Objects local)");
    // wrangler's own chatter (the unreachable Request.cf lookup, no internet here) stays quiet.
    process.env.WRANGLER_LOG ??= "error";
    const workerLog = path.join(benchDir, `worker-${stamp}.log`);
    const builtFrom = revision();
    const workerdBefore = new Set(descendantsNamed(process.pid, "workerd"));
    const worker = await startWorker({ vars, persistTo, logFile: workerLog });
    log(`the Worker's logs go to ${path.relative(ROOT, workerLog)}`);
    cleanups.push(() => worker.stop());
    // wrangler runs two workerd: its dev proxy, listening on the Worker's URL, which forwards
    // every request, and the Worker itself. Production has no such proxy: only the second counts.
    const entry = `entry=127.0.0.1:${new URL(worker.url).port} `;
    const started = descendantsNamed(process.pid, "workerd").filter((p) => !workerdBefore.has(p));
    const devProxyPids = started.filter((pid) => `${commandLine(pid)} `.includes(entry));
    const workerdPids = started.filter((pid) => !devProxyPids.includes(pid));
    if (workerdPids.length === 0) log("no workerd process found: CPU ms will read 0");
    else {
      log(
        `workerd: the Worker is pid ${workerdPids.join(", ")} (CPU ms is read from it and its ` +
          `children); wrangler's dev proxy is pid ${devProxyPids.join(", ") || "?"} (not counted)`,
      );
    }

    const classic = startChild(path.join(HERE, "classic-process.ts"), {
      name: "classic",
      env: {
        ...process.env,
        BENCH_DATABASE_URL: proxiedUrl,
        BENCH_POOL_MAX: String(opts.pgConnections),
        BENCH_STRIPE_URL: stripe.url,
        BENCH_STRIPE_KEY: stripe.secretKey,
      },
    });
    cleanups.push(() => classic.stop());
    const classicReady = await classic.next(messageOf<ReadyMessage>("ready"), 30_000);

    const load = startChild(path.join(HERE, "load-process.ts"), {
      name: "load",
      cpu: pinned ? 1 : null,
    });
    cleanups.push(() => load.stop());
    await load.next(messageOf<ReadyMessage>("ready"), 30_000);

    const db = drizzle({ client: pool, schema });
    const shop = await seedShop(db);
    rig = {
      stack,
      stripe,
      pool,
      proxy,
      proxiedUrl,
      worker,
      workerdPids,
      classic,
      classicUrl: `http://127.0.0.1:${classicReady.port}`,
      load,
      shop,
      jwtSecret,
      pinned,
    };

    log("warming up every design at RTT 0");
    await setRtt(rig, 0);
    await warmUp(rig, opts.designs);

    const steps = opts.rtts.length * opts.ns.length * opts.designs.length;
    let done = 0;
    for (const rtt of opts.rtts) {
      await setRtt(rig, rtt);
      const measured = await measureRtt(proxiedUrl);
      rttMeasured.set(rtt, measured);
      log(`RTT ${rtt} ms: SELECT 1 through the proxy takes ${measured.toFixed(2)} ms (median)`);
      for (const n of opts.ns) {
        for (const design of opts.designs) {
          done += 1;
          const t = performance.now();
          const step =
            design === "souk"
              ? await soukStep(rig, opts, rtt, n)
              : design === "same-work"
                ? await sameWorkStep(rig, opts, rtt, n)
                : await classicStep(rig, opts, rtt, n);
          rows.push(step.row);
          const r = step.row;
          log(
            `[${done}/${steps}] ${design} RTT ${rtt} N ${n}: ${r.perSecond.toFixed(1)}/s, ` +
              `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, sold ${r.sold}, ` +
              `sold out ${r.soldOut}, errors ${r.errors}, ${r.roundTrips.toFixed(1)} round trips ` +
              `(${r.hops}) ` +
              `and ${r.cpuMs.toFixed(1)} CPU ms per purchase ` +
              `(${((performance.now() - t) / 1000).toFixed(0)} s)`,
          );
          if (opts.ratePerSec !== null && step.lagMs > 1_000) {
            log(`  ${design} fell ${(step.lagMs / 1000).toFixed(1)} s behind the arrival rate`);
          }
          for (const s of step.samples) log(`  ${design} answer: ${s}`);
          for (const f of step.failures) {
            const msg = `OVERSELL GATE FAILED (${design}, RTT ${rtt}, N ${n}): ${f}`;
            failures.push(msg);
            console.error(`\n!!!!!!!! ${msg} !!!!!!!!\n`);
          }
        }
      }
    }

    const loadAfter = loadavg();
    const header = [
      `# bench:stock — ${startedAt.toISOString()}`,
      "",
      ...machine().map((l) => `- machine: ${l}`),
      `- Postgres ${pgVersion}: ${stack.postgresKind === "pglite" ? "embedded PGlite" : redact(stack.databaseUrl)} (${stack.postgresKind}); every design reaches it through the same delaying TCP proxy (RTT/2 each way per chunk): the row locks' pg Pool on its way to Postgres, the Worker on its way to the Neon WebSocket bridge${httpTarget ? " and to the SQL-over-HTTP endpoint" : " (the stack serves no SQL-over-HTTP endpoint)"}, which sit next to Postgres as Neon's do`,
      `- measured RTT (median SELECT 1 through the proxy): ${[...rttMeasured].map(([k, v]) => `${k} → ${v.toFixed(2)} ms`).join(", ")}`,
      `- Postgres connections: Souk's bridge cap ${opts.pgConnections} (one Neon Pool per request, shared by the object's mirror flush), the row locks' pg.Pool max ${opts.pgConnections}`,
      `- Redis: ${stack.redisRest ? "on (rate limits on the confirm route)" : "off"}; Stripe: the local emulator`,
      `- Worker: built once from ${builtFrom}, run by wrangler's unstable_startWorker (workerd, Durable Objects local, no file watching); it logged ${worker.errors()} error lines (${path.relative(ROOT, workerLog)})`,
      `- pinning: ${pinned ? "servers on core 0 (workerd, wrangler + bridges + Stripe emulator, the row-lock service); load generator and delaying proxy on core 1; Postgres and Redis (system services) unpinned" : "none (taskset or a second core unavailable)"}`,
      `- designs: ${opts.designs.map((d) => LABEL[d]).join("; ")}. Row lock, same work: idempotency record, buyer and price plan read, SELECT … FOR UPDATE, UPDATE, checkout + order + items + 2 audit rows one statement at a time, COMMIT, a PaymentIntent on the same Stripe emulator, its id saved, the answer stored. Row lock, minimal: BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT order; COMMIT`,
      `- per step: a fresh product with ${opts.units} units; up to ${opts.purchases} purchases, each by its own buyer, started for at most ${opts.durationMs / 1000} s, every answer waited for; ${opts.ratePerSec === null ? "closed loop (each buyer sends again when answered)" : `fixed arrival rate ${opts.ratePerSec}/s, latency from each purchase's scheduled time`}`,
      `- load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(2)).join(" ")}, after ${loadAfter.map((v) => v.toFixed(2)).join(" ")} (other work shares this machine)`,
      `- reservations/s: successful purchases ÷ (first send → last answer); latency of successful purchases; sold out: 409 INSUFFICIENT_STOCK; mirror s: Souk's stock mirror caught up this long after the step's last answer`,
      "- round trips: client→server bursts answered by the server (one or more messages sent before the server's first reply), counted per connection at the delaying proxy from the step's first send to its last answer, ÷ purchases answered; for Souk it includes the Neon WebSocket upgrade and startup of each new connection and any stock-mirror flush that ran during the step (k below counts only what the buyer waits for). by hop: the same split by the proxy's listener: ws = the Worker → Neon WebSocket bridge, http = the Worker → SQL-over-HTTP endpoint, pg = the row locks' pg Pool → Postgres. conns: new connections through the proxy ÷ purchases. CPU ms: user + system CPU of the server's processes (workerd and its children for Souk; the Node service for the row locks) over the same window, from /proc/<pid>/stat, ÷ purchases answered",
      "- k: for N = 1, the least-squares slope of p50 against the measured RTT: the round trips an uncontended buyer waits for",
      "",
    ].join("\n");
    const fitted = slopeLines(slopes(rows, rttMeasured));
    const slopeText = fitted.length > 0 ? `\n${fitted.map((l) => `- ${l}`).join("\n")}\n` : "";
    const out = `${header}\n${table(rows)}\n${slopeText}${failures.length > 0 ? `\n**GATE FAILED**\n\n${failures.map((f) => `- ${f}`).join("\n")}\n` : "\nZero oversell in every step (orders = units sold = successful answers; stock never negative).\n"}`;
    const file = path.join(benchDir, `stock-${stamp}.md`);
    writeFileSync(file, out);
    console.log(`\n${out}`);
    log(`written to ${path.relative(ROOT, file)}`);
  } finally {
    await cleanup();
  }
  if (failures.length > 0) {
    console.error(`\n!!!!!!!! ZERO-OVERSELL GATE FAILED in ${failures.length} step(s) !!!!!!!!`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
