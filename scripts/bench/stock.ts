/**
 * `npm run bench:stock`: a flash sale on one hot product, two designs side by side, against the
 * same local Postgres behind the same delaying proxy (the RTT between the app and its database):
 *
 * - Souk: N concurrent buyers each buying one unit through the real HTTP API, `POST
 *   /v1/checkout/confirm` with `items` (buy now), on the Worker under `wrangler dev`: auth, rate
 *   limit, Idempotency-Key, the reservation in the product's Durable Object, checkout + order +
 *   items + audit rows in one Postgres transaction, one PaymentIntent on the Stripe emulator.
 *   The stock mirror is written behind by the object's alarm, never on the buyer's path.
 * - classic: the seeds' design, a Node service doing BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT
 *   order; COMMIT per purchase from a `pg` Pool.
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
import { type Child, canPin, messageOf, pinSelf, startChild } from "./children.ts";
import { classicTally, createClassicTables, stockClassicProduct } from "./classic.ts";
import type { LoadPlan, LoadResult, PreparedRequest } from "./load.ts";
import { type Design, type StepRow, table } from "./report.ts";
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
  --pg-connections 40  Postgres connections each design may hold (bridge cap = classic pool)
  --designs souk,classic  which designs to run`;

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
  const designs = (values.designs ?? "souk,classic").split(",").map((d) => d.trim());
  if (designs.length === 0 || designs.some((d) => d !== "souk" && d !== "classic")) {
    throw new Error("--designs takes souk, classic or both");
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
  classic: Child;
  classicUrl: string;
  load: Child;
  shop: BenchShop;
  jwtSecret: string;
  pinned: boolean;
}

interface StepOutcome {
  row: StepRow;
  failures: string[];
  samples: string[];
  /** With a fixed rate: how far behind its schedule the generator fell, ms. */
  lagMs: number;
}

type ReadyMessage = { type: "ready"; port?: number };
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
  const result = await runLoad(rig, {
    url: `${rig.worker.url}/v1/checkout/confirm`,
    requests,
    connections: n,
    durationMs: opts.durationMs,
    ratePerSec: opts.ratePerSec,
    timeoutMs: 300_000,
  });
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
    row: stepRow("souk", rttMs, n, result, ok, oversold, mirrorSeconds, failures.length === 0),
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
  const result = await runLoad(rig, {
    url: `${rig.classicUrl}/purchases`,
    requests,
    connections: n,
    durationMs: opts.durationMs,
    ratePerSec: opts.ratePerSec,
    timeoutMs: 300_000,
  });
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
    row: stepRow("classic", rttMs, n, result, ok, oversold, null, failures.length === 0),
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
  ok: number,
  oversold: number,
  mirrorSeconds: number | null,
  gate: boolean,
): StepRow {
  const soldOut = count(result, isSoldOut);
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
    mirrorSeconds,
    load1: loadavg()[0] ?? 0,
    gate,
  };
}

/** A few purchases on each design at RTT 0 before measuring: JIT, isolates, pools warm. */
async function warmUp(rig: Rig): Promise<void> {
  const opts: Options = {
    quick: true,
    ns: [4],
    rtts: [0],
    units: 50,
    purchases: 40,
    durationMs: 10_000,
    ratePerSec: null,
    pgConnections: 0,
    designs: ["souk", "classic"],
  };
  const souk = await soukStep(rig, opts, 0, 4);
  const classic = await classicStep(rig, opts, 0, 4);
  for (const s of [souk, classic]) {
    if (s.failures.length > 0 || s.row.sold === 0) {
      throw new Error(
        `warm-up failed for ${s.row.design}: ${[...s.failures, ...s.samples].join("; ")}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

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
    // The proxy stands in for the network, so it runs beside the load generator rather than
    // taking CPU from the servers (and its timers fire later on the servers' busy core).
    const proxy = startChild(path.join(HERE, "proxy-process.ts"), {
      name: "proxy",
      args: [`${target.hostname}:${target.port || 5432}`],
      cpu: pinned ? 1 : null,
    });
    cleanups.push(() => proxy.stop());
    const proxyReady = await proxy.next(messageOf<ReadyMessage>("ready"), 30_000);
    const proxied = new URL(stack.databaseUrl);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxyReady.port);
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
      DATABASE_URL: proxiedUrl,
      NEON_LOCAL_WS_PROXY: stack.neonLocalWsProxy,
      JWT_SECRET: jwtSecret,
      PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
      STRIPE_API_BASE: stripe.url,
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
      STRIPE_CONNECT_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
      LOG_LEVEL: "warn",
    };
    if (stack.redisRest) {
      vars.UPSTASH_REDIS_REST_URL = stack.redisRest.url;
      vars.UPSTASH_REDIS_REST_TOKEN = stack.redisRest.token;
    }
    log("starting the Worker (wrangler's unstable_startWorker: workerd, Durable Objects local)");
    // wrangler's own chatter (the unreachable Request.cf lookup, no internet here) stays quiet.
    process.env.WRANGLER_LOG ??= "error";
    const workerLog = path.join(benchDir, `worker-${stamp}.log`);
    const builtFrom = revision();
    const worker = await startWorker({ vars, persistTo, logFile: workerLog });
    log(`the Worker's logs go to ${path.relative(ROOT, workerLog)}`);
    cleanups.push(() => worker.stop());

    const classic = startChild(path.join(HERE, "classic-process.ts"), {
      name: "classic",
      env: {
        ...process.env,
        BENCH_DATABASE_URL: proxiedUrl,
        BENCH_POOL_MAX: String(opts.pgConnections),
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
      classic,
      classicUrl: `http://127.0.0.1:${classicReady.port}`,
      load,
      shop,
      jwtSecret,
      pinned,
    };

    log("warming up both designs at RTT 0");
    await setRtt(rig, 0);
    await warmUp(rig);

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
              : await classicStep(rig, opts, rtt, n);
          rows.push(step.row);
          const r = step.row;
          log(
            `[${done}/${steps}] ${design} RTT ${rtt} N ${n}: ${r.perSecond.toFixed(1)}/s, ` +
              `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, sold ${r.sold}, ` +
              `sold out ${r.soldOut}, errors ${r.errors} (${((performance.now() - t) / 1000).toFixed(0)} s)`,
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
      `- Postgres ${pgVersion}: ${stack.postgresKind === "pglite" ? "embedded PGlite" : redact(stack.databaseUrl)} (${stack.postgresKind}); both designs reach it through the same delaying TCP proxy (RTT/2 each way per chunk)`,
      `- measured RTT (median SELECT 1 through the proxy): ${[...rttMeasured].map(([k, v]) => `${k} → ${v.toFixed(2)} ms`).join(", ")}`,
      `- Postgres connections: Souk's bridge cap ${opts.pgConnections} (one Neon Pool per request, shared by the object's mirror flush), classic pg.Pool max ${opts.pgConnections}`,
      `- Redis: ${stack.redisRest ? "on (rate limits on the confirm route)" : "off"}; Stripe: the local emulator`,
      `- Worker: built once from ${builtFrom}, run by wrangler's unstable_startWorker (workerd, Durable Objects local, no file watching); it logged ${worker.errors()} error lines (${path.relative(ROOT, workerLog)})`,
      `- pinning: ${pinned ? "servers on core 0 (workerd, wrangler + bridges + Stripe emulator, the classic service); load generator and delaying proxy on core 1; Postgres and Redis (system services) unpinned" : "none (taskset or a second core unavailable)"}`,
      `- per step: a fresh product with ${opts.units} units; up to ${opts.purchases} purchases, each by its own buyer, started for at most ${opts.durationMs / 1000} s, every answer waited for; ${opts.ratePerSec === null ? "closed loop (each buyer sends again when answered)" : `fixed arrival rate ${opts.ratePerSec}/s, latency from each purchase's scheduled time`}`,
      `- load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(2)).join(" ")}, after ${loadAfter.map((v) => v.toFixed(2)).join(" ")} (other work shares this machine)`,
      `- reservations/s: successful purchases ÷ (first send → last answer); latency of successful purchases; sold out: 409 INSUFFICIENT_STOCK; mirror s: Souk's stock mirror caught up this long after the step's last answer`,
      "",
    ].join("\n");
    const out = `${header}\n${table(rows)}\n${failures.length > 0 ? `\n**GATE FAILED**\n\n${failures.map((f) => `- ${f}`).join("\n")}\n` : "\nZero oversell in every step (orders = units sold = successful answers; stock never negative).\n"}`;
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
