/**
 * `npm run bench:analytics`: do the dashboards stay fast as a shop grows? One shop with
 * 1,000,000 paid order lines over two years (500,000 orders of two lines, over 500 products in
 * 10 categories, popularity skewed; a few percent refunded or cancelled), 1,000,000 stock
 * movements and 1,000 offline sales, written straight into a fresh Postgres database with
 * set-based SQL (generate_series), not through the API: the API's write paths have their own
 * benches and would take hours here.
 *
 * Then the rollup runs as the cron runs it (src/services/analytics/rollups.ts, the first run
 * builds every day), and an incremental run after 1,000 orders of the last 30 days are refunded
 * is timed too. Then, through
 * the real Worker (wrangler's workerd, the same HTTP surface and the same Neon drivers as in
 * production, over the local stack's bridges, no added network delay), it measures
 * GET /v1/seller/analytics/kpis for the last 365 days against the 365 before, and
 * GET /v1/seller/analytics/series for a one-year daily revenue series, sequentially. Prints a
 * p50/p95 table and writes it to .bench/analytics.md. Target: ≤ 100 ms p50 each.
 *
 *   npm run bench:analytics
 *   npm run bench:analytics -- --lines 200000 --requests 50      (a quicker look)
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import type { Database } from "../../src/db/client.ts";
import * as schema from "../../src/db/schema/index.ts";
import { catchUpSalesRollups } from "../../src/services/analytics/rollups.ts";
import { ROOT } from "../stack/dev-database.ts";
import { startStack } from "../stack/stack.ts";
import { seedShop, signTokens, startWorker } from "./souk.ts";

const log = (msg: string) => console.error(`[bench:analytics] ${msg}`);

const { values: args } = parseArgs({
  options: {
    lines: { type: "string", default: "1000000" },
    products: { type: "string", default: "500" },
    requests: { type: "string", default: "200" },
    port: { type: "string", default: "8970" },
  },
});
const LINES = Number(args.lines);
const PRODUCTS = Number(args.products);
const REQUESTS = Number(args.requests);
const ORDERS = Math.floor(LINES / 2);
const DAYS = 730;

/** Everything the shop sold and holds, in a handful of statements. */
async function seedSales(pool: pg.Pool, shopId: string, sellerId: string): Promise<void> {
  const step = async (label: string, text: string, params: unknown[] = []) => {
    const t0 = performance.now();
    const res = await pool.query(text, params);
    log(`${label}: ${res.rowCount ?? 0} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await step(
    "categories",
    `insert into categories (id, slug, name)
     select gen_random_uuid(), 'bench-cat-' || n || '-' || $1, 'Category ' || n
     from generate_series(1, 10) n`,
    [shopId.slice(-12)],
  );
  await step(
    "products",
    `insert into products (id, shop_id, category_id, title, price_minor, currency, sku, attributes,
       listing_type, status, published_at)
     select gen_random_uuid(), $1, c.id, 'Product ' || n, 200 + (n * 37) % 4800, 'EUR',
       'BENCH-' || n, '{}'::jsonb, 'fixed', 'published', now()
     from generate_series(0, $2 - 1) n
     join lateral (select id from categories where slug like 'bench-cat-%-' || $3
       order by slug offset n % 10 limit 1) c on true`,
    [shopId, PRODUCTS, shopId.slice(-12)],
  );
  await pool.query(`create table bench_products as
    select row_number() over (order by sku) - 1 as idx, id, price_minor from products
    where shop_id = '${shopId}'`);
  await pool.query("create unique index on bench_products (idx)");
  await step(
    "buyers",
    `insert into users (id, email, display_name, role)
     select gen_random_uuid(), 'bench-buyer-' || n || '-' || $1 || '@bench.invalid', 'Buyer', 'buyer'
     from generate_series(1, 5000) n`,
    [shopId.slice(-12)],
  );
  await pool.query(`create table bench_buyers as
    select row_number() over (order by id) - 1 as idx, id from users where email like 'bench-buyer-%'`);
  // Orders: paid at a random instant of the last two years, a few refunded or cancelled.
  await pool.query(`create table bench_orders as
    select n, gen_random_uuid() as id,
      now() - random() * interval '${DAYS} days' as paid_at,
      case when n % 50 = 0 then 'cancelled' when n % 20 = 0 then 'partially_refunded'
        else 'delivered' end::order_status as status
    from generate_series(1, ${ORDERS}) n`);
  // The product is drawn once per line (in the subquery: a volatile join key would be drawn
  // again for every pair compared), squared so a few products sell most.
  await pool.query(`create table bench_lines as
    select l.n, l.k, l.order_id, p.id as product_id, p.price_minor, 1 + (l.n + l.k) % 3 as quantity
    from (select o.n, k, o.id as order_id,
        floor(${PRODUCTS} * power(random(), 2))::int as pidx
      from bench_orders o cross join generate_series(0, 1) k) l
    join bench_products p on p.idx = l.pidx`);
  await step(
    "orders",
    `insert into orders (id, buyer_id, shop_id, status, currency, subtotal_minor,
       platform_fee_minor, total_minor, refunded_minor, paid_at, created_at, updated_at)
     select o.id, b.id, $1, o.status, 'EUR', s.subtotal, s.subtotal * 2 / 100, s.subtotal,
       case when o.status = 'partially_refunded' then s.subtotal / 4 else 0 end,
       o.paid_at, o.paid_at, o.paid_at
     from bench_orders o
     join (select order_id, sum(price_minor * quantity) as subtotal from bench_lines
       group by order_id) s on s.order_id = o.id
     join bench_buyers b on b.idx = o.n % 5000`,
    [shopId],
  );
  await step(
    "order lines",
    `insert into order_items (id, order_id, product_id, title, sku, unit_price_minor, quantity,
       location_id, status)
     select gen_random_uuid(), l.order_id, l.product_id, 'Product', 'BENCH', l.price_minor,
       l.quantity, w.id, 'picked'
     from bench_lines l
     cross join (select id from shop_locations where shop_id = $1 and kind = 'warehouse') w`,
    [shopId],
  );
  // Stock: a count at both locations, then the warehouse's commits (2,000 per product on
  // average), so a product's latest level at the branch sits far behind its latest movement.
  await step(
    "stock movements",
    `insert into stock_movements (id, product_id, shop_id, location_id, sequence, kind,
       delta_on_hand, delta_reserved, on_hand_after, reserved_after, low_stock_threshold,
       low_stock, actor_type, created_at)
     select gen_random_uuid(), p.id, $1, l.id, l.seq, 'set'::stock_movement_kind, 50000, 0, 50000, 0, 10, false,
       'user', now() - interval '${DAYS} days'
     from bench_products p
     cross join (select id, row_number() over (order by kind desc) as seq from shop_locations
       where shop_id = $1) l
     union all
     select gen_random_uuid(), p.id, $1, w.id, 2 + s, 'commit'::stock_movement_kind, -1, 0, 50000 - s,
       0, 10, (50000 - s) <= 10, 'stripe', now() - interval '${DAYS} days' + s * interval '1 minute'
     from bench_products p
     cross join (select id from shop_locations where shop_id = $1 and kind = 'warehouse') w
     cross join generate_series(1, ${Math.floor(LINES / PRODUCTS)}) s`,
    [shopId],
  );
  await step(
    "offline sales",
    `insert into sales_transactions (id, shop_id, product_id, location_id, sku, title, quantity,
       unit_price_minor, total_minor, currency, sold_at, movement_id, created_by, created_at)
     select gen_random_uuid(), $1, p.id, l.id, 'BENCH', 'Product', 1, p.price_minor,
       p.price_minor, 'EUR', t.at, gen_random_uuid(), $2, t.at
     from generate_series(1, 1000) n
     cross join lateral (select now() - random() * interval '${DAYS} days' + n * interval '0'
       as at) t
     join bench_products p on p.idx = n % ${PRODUCTS}
     cross join (select id from shop_locations where shop_id = $1 and kind = 'branch') l`,
    [shopId, sellerId],
  );
  await pool.query("drop table bench_lines, bench_orders, bench_buyers, bench_products");
  await pool.query("vacuum analyze");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(url: string, token: string): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS + 10; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    const elapsed = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body}`);
    bytes = body.length;
    if (i >= 10) ms.push(elapsed); // the first ten warm the isolate, the pools and the caches
  }
  return { ms: ms.sort((a, b) => a - b), bytes };
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  };
  process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  try {
    const stack = await startStack({ mode: "test", log: (m) => log(`stack: ${m}`) });
    cleanups.push(() => stack.stop());
    if (!stack.neonLocalWsProxy) throw new Error("the bench needs Postgres on this machine");
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    cleanups.push(() => pool.end());
    const db = drizzle(pool, { schema });
    const shop = await seedShop(db);
    log(`seeding ${LINES.toLocaleString("en")} order lines over ${DAYS} days`);
    const seedStart = performance.now();
    await seedSales(pool, shop.id, shop.sellerId);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    // The node-postgres drizzle client answers the same calls as the Worker's Pool client.
    const rollupDb = { db: db as unknown as Database };
    let t0 = performance.now();
    const full = await catchUpSalesRollups(rollupDb);
    const fullSeconds = (performance.now() - t0) / 1000;
    log(
      `first rollup: ${full.days} days, ${full.productDays} product-days in ${fullSeconds.toFixed(1)} s`,
    );
    await pool.query(
      `update orders set updated_at = now(), refunded_minor = subtotal_minor / 2,
        status = 'partially_refunded'
      where id in (select id from orders where shop_id = $1
        and paid_at > now() - interval '30 days' order by random() limit 1000)`,
      [shop.id],
    );
    t0 = performance.now();
    const incremental = await catchUpSalesRollups(rollupDb);
    const incrementalMs = performance.now() - t0;
    log(`incremental rollup: ${incremental.days} days in ${incrementalMs.toFixed(0)} ms`);
    await pool.query("vacuum analyze sales_daily, sales_daily_shops");

    const benchDir = path.join(ROOT, ".bench");
    mkdirSync(benchDir, { recursive: true });
    const persistTo = mkdtempSync(path.join(tmpdir(), "souk-bench-analytics-"));
    cleanups.push(async () => rmSync(persistTo, { recursive: true, force: true }));
    const jwtSecret = randomBytes(32).toString("base64url");
    process.env.WRANGLER_LOG ??= "error";
    const worker = await startWorker({
      port: Number(args.port),
      persistTo,
      logFile: path.join(benchDir, "analytics-worker.log"),
      vars: {
        ENVIRONMENT: "development",
        DATABASE_URL: stack.databaseUrl,
        NEON_LOCAL_WS_PROXY: stack.neonLocalWsProxy,
        NEON_LOCAL_HTTP: stack.neonLocalHttp,
        JWT_SECRET: jwtSecret,
        PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
        LOG_LEVEL: "warn",
      },
    });
    cleanups.push(() => worker.stop());
    const [token] = await signTokens([shop.sellerId], "seller", jwtSecret);
    if (!token) throw new Error("no token");

    const day = (offset: number) =>
      new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    const base = `${worker.url}/v1/seller/analytics`;
    const cases = [
      [
        "KPIs, last 365 days vs the 365 before",
        `${base}/kpis?shopId=${shop.id}&from=${day(364)}&to=${day(0)}`,
      ],
      [
        "daily revenue series, one year",
        `${base}/series?shopId=${shop.id}&metric=revenue&interval=day&from=${day(364)}&to=${day(0)}`,
      ],
    ] as const;
    const rows: string[] = [];
    for (const [label, url] of cases) {
      const { ms, bytes } = await measure(url, token);
      const p50 = percentile(ms, 50);
      rows.push(
        `| ${label} | ${ms.length} | ${p50.toFixed(1)} | ${percentile(ms, 95).toFixed(1)} | ${percentile(ms, 100).toFixed(1)} | ${(bytes / 1024).toFixed(1)} KiB | ${p50 <= 100 ? "met" : "missed"} |`,
      );
      log(rows.at(-1) ?? "");
    }
    const table = [
      "# Analytics bench",
      "",
      `${new Date().toISOString()}; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}.`,
      `One shop: ${LINES.toLocaleString("en")} paid order lines (${ORDERS.toLocaleString("en")} orders) over ${DAYS} days, ${PRODUCTS} products, 1,000 offline sales, ${(LINES).toLocaleString("en")} stock movements; seeded in ${seedSeconds.toFixed(0)} s.`,
      `Rollup: first run ${full.days} shop-days / ${full.productDays.toLocaleString("en")} product-days in ${fullSeconds.toFixed(1)} s; after 1,000 orders of the last 30 days were refunded, ${incremental.days} days rebuilt in ${incrementalMs.toFixed(0)} ms.`,
      "Reads: through the Worker (workerd via wrangler, the local Neon HTTP endpoint and WebSocket bridge), sequential, after 10 warm-up requests.",
      "",
      "| request | n | p50 ms | p95 ms | max ms | body | ≤ 100 ms p50 |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
      ...rows,
    ].join("\n");
    console.log(table);
    writeFileSync(path.join(benchDir, "analytics.md"), `${table}\n`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
