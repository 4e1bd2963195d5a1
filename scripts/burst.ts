/**
 * `npm run burst`: a flash sale on the embedded default, as a new user would try it. Starts the
 * local stack on in-memory PGlite (or `--postgres server`: a fresh database on the Postgres at
 * 127.0.0.1:5432 or DATABASE_URL), the Stripe emulator and the Worker under wrangler on a free
 * port, then sends N buyers' buy-now confirms for one product with U units all at once, each with
 * its own Idempotency-Key, and checks: exactly U × 201, the rest 409 INSUFFICIENT_STOCK, no 5xx,
 * and stock that adds up (the object's reserved = orders in Postgres = U, nothing available).
 *
 *   npm run burst [-- --postgres embedded|server] [--buyers 300] [--units 100]
 *   npm run burst -- --dev    # against a running `npm run dev` on :8787 (writes a shop to it)
 *
 * Exits 1 when a check fails. Why a script and not a vitest file: the test Worker is bound to the
 * one database global-setup chose (the server Postgres when it answers), and a second Worker on
 * PGlite inside the vitest plugin is not practical; tests/routes/checkout/burst.test.ts drives the
 * same burst there.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../src/db/schema/index.ts";
import {
  freePort,
  insertBuyers,
  seedShop,
  signTokens,
  soukTally,
  startWorker,
  stockedProduct,
  stockLevels,
} from "./bench/souk.ts";
import { loadDevEnv, ROOT } from "./stack/dev-database.ts";
import { startStripeProcess, workerVars } from "./stack/local-worker.ts";
import { readPgliteLock } from "./stack/pglite-server.ts";
import { DEV_PGLITE_DIR, redact, type Stack, startStack } from "./stack/stack.ts";

const log = (msg: string) => console.log(`[burst] ${msg}`);

interface Options {
  postgres: "embedded" | "server";
  /** Against a running `npm run dev` instead of a stack of its own. */
  dev: boolean;
  buyers: number;
  units: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      postgres: { type: "string", default: "embedded" },
      buyers: { type: "string", default: "300" },
      units: { type: "string", default: "100" },
      dev: { type: "boolean", default: false },
    },
  });
  const positive = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  if (values.postgres !== "embedded" && values.postgres !== "server") {
    throw new Error("--postgres must be embedded or server");
  }
  return {
    postgres: values.postgres,
    dev: values.dev,
    buyers: positive("buyers", values.buyers),
    units: positive("units", values.units),
  };
}

interface Answer {
  status: number;
  code: string;
  retryAfter: string | null;
  ms: number;
}

async function confirm(url: string, token: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/v1/checkout/confirm`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": randomUUID(),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let code = "";
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? "";
    } catch {
      code = text.slice(0, 60);
    }
    return {
      status: res.status,
      code,
      retryAfter: res.headers.get("retry-after"),
      ms: performance.now() - started,
    };
  } catch (error) {
    const code = error instanceof Error ? error.name : "error";
    return { status: 0, code, retryAfter: null, ms: performance.now() - started };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Target {
  /** The Worker's origin. */
  url: string;
  /** Where buyers and the shop are written, as `npm run seed` writes them. */
  databaseUrl: string;
  jwtSecret: string;
  where: string;
  /** Error lines the Worker logged, when this script started it. */
  errors(): number | null;
}

/** The stack, the Stripe emulator and the Worker of this run, all stopped by `cleanups`. */
async function startOwn(
  opts: Options,
  cleanups: Array<() => Promise<void> | void>,
): Promise<Target> {
  // Test mode: a database of its own (in-memory PGlite, or a fresh one on the server) that is
  // gone afterwards, so .data/pg and a running `npm run dev` are never touched.
  const env: Record<string, string | undefined> = { ...process.env, CI: undefined };
  if (opts.postgres === "embedded") env.SOUK_TEST_POSTGRES = "pglite";
  const stack: Stack = await startStack({ mode: "test", env, log: (m) => log(`stack: ${m}`) });
  cleanups.push(() => stack.stop());
  if (opts.postgres === "server" && stack.postgresKind === "pglite") {
    throw new Error("--postgres server: no Postgres answered on 127.0.0.1:5432 (DATABASE_URL)");
  }
  const stripe = await startStripeProcess({ port: await freePort() });
  cleanups.push(() => stripe.stop());

  const jwtSecret = randomBytes(32).toString("base64url");
  const vars = workerVars({ stack, stripe, jwtSecret });
  const persistTo = mkdtempSync(path.join(tmpdir(), "souk-burst-"));
  cleanups.push(() => rmSync(persistTo, { recursive: true, force: true }));
  const logDir = path.join(ROOT, ".bench");
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `burst-${opts.postgres}-${Date.now()}.log`);
  process.env.WRANGLER_LOG ??= "error";
  log("starting the Worker (wrangler, workerd, on a free port)");
  const worker = await startWorker({ vars, persistTo, logFile });
  cleanups.push(() => worker.stop());
  log(`Worker at ${worker.url}; its log: ${path.relative(ROOT, logFile)}`);
  return {
    url: worker.url,
    databaseUrl: stack.databaseUrl,
    jwtSecret,
    where: stack.postgresKind === "pglite" ? "embedded PGlite" : redact(stack.databaseUrl),
    errors: () => worker.errors(),
  };
}

/**
 * A running `npm run dev` on :8787, exactly as a new user has it: its database (DATABASE_URL, or
 * the embedded one at the address its lock file records) and its JWT_SECRET from .dev.vars.
 */
async function runningDev(): Promise<Target> {
  const env = loadDevEnv();
  const lock = env.DATABASE_URL ? null : await readPgliteLock(DEV_PGLITE_DIR);
  const databaseUrl = env.DATABASE_URL ?? lock?.url;
  if (!databaseUrl || !env.JWT_SECRET) {
    throw new Error("--dev: start `npm run dev` first (no running embedded database or .dev.vars)");
  }
  return {
    url: "http://127.0.0.1:8787",
    databaseUrl,
    jwtSecret: env.JWT_SECRET,
    where: `npm run dev's ${env.DATABASE_URL ? redact(databaseUrl) : "embedded PGlite"}`,
    errors: () => null,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${String(error)}`);
      }
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  const failures: string[] = [];
  try {
    const target = opts.dev ? await runningDev() : await startOwn(opts, cleanups);
    const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
    pool.on("error", () => {});
    cleanups.push(() => pool.end());
    const db = drizzle({ client: pool, schema });
    const { url, jwtSecret } = target;

    const shop = await seedShop(db);
    const [sellerToken = ""] = await signTokens([shop.sellerId], "seller", jwtSecret);
    const buyerIds = await insertBuyers(db, opts.buyers);
    const tokens = await signTokens(buyerIds, "buyer", jwtSecret);
    const productId = await stockedProduct(url, sellerToken, shop, opts.units, "Burst");
    const body = {
      items: [{ productId, quantity: 1 }],
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    };

    const where = target.where;
    log(`${opts.buyers} buyers at once, ${opts.units} units, on ${where}`);
    const started = performance.now();
    const answers = await Promise.all(tokens.map((t) => confirm(url, t, body)));
    const wallMs = performance.now() - started;

    const tally = new Map<string, number>();
    for (const a of answers) {
      const key = `${a.status} ${a.code}`.trim();
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    log(`answers in ${(wallMs / 1000).toFixed(1)} s:`);
    for (const [key, n] of [...tally].sort()) log(`  ${n} × ${key}`);
    log(
      `latency p50 ${Math.round(percentile(ms, 50))} ms, p99 ${Math.round(percentile(ms, 99))} ms, max ${Math.round(ms.at(-1) ?? 0)} ms`,
    );

    const created = answers.filter((a) => a.status === 201).length;
    const soldOut = answers.filter((a) => a.status === 409 && a.code === "INSUFFICIENT_STOCK");
    const serverErrors = answers.filter((a) => a.status >= 500 || a.status === 0);
    const expectCreated = Math.min(opts.units, opts.buyers);
    if (created !== expectCreated) failures.push(`${created} × 201, expected ${expectCreated}`);
    if (soldOut.length !== opts.buyers - expectCreated) {
      failures.push(`${soldOut.length} × 409, expected ${opts.buyers - expectCreated}`);
    }
    if (serverErrors.length > 0) failures.push(`${serverErrors.length} answers were 5xx or none`);

    const levels = await stockLevels(url, sellerToken, productId, shop.branchId);
    const orders = await soukTally(pool, productId);
    log(
      `stock: on hand ${levels.onHand}, reserved ${levels.reserved}, available ${levels.available}; ` +
        `Postgres: ${orders.live} orders pending payment (${orders.liveUnits} units)`,
    );
    if (levels.onHand !== opts.units) failures.push(`on hand ${levels.onHand} ≠ ${opts.units}`);
    if (levels.reserved !== created) failures.push(`reserved ${levels.reserved} ≠ ${created} sold`);
    if (levels.reserved + levels.available !== levels.onHand) {
      failures.push("reserved + available ≠ on hand");
    }
    if (orders.liveUnits !== created) failures.push(`${orders.liveUnits} units in orders ≠ 201s`);
    const errors = target.errors();
    if (errors !== null) log(`the Worker logged ${errors} error lines`);
  } catch (error) {
    failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    await cleanup();
  }
  if (failures.length > 0) {
    for (const f of failures) log(`FAIL: ${f}`);
    process.exit(1);
  }
  log("PASS");
  process.exit(0);
}

await main();
