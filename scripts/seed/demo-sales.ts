/**
 * Writes the plan of ./sales.ts for the demo shops: customers (buyer accounts without a
 * password: they exist to buy), paid orders of one line, offline sales at the warehouse, in
 * multi-row inserts inside one transaction, with one audit row per shop. Then it builds what
 * the dashboards read, as the crons would: the sales rollups of every day of those shops
 * (src/services/analytics/rollups.ts) and their forecasts, customer segments and
 * recommendations (src/services/intelligence/compute.ts).
 *
 * Idempotent: a shop that already has orders from demo customers is left alone, so a second
 * run writes nothing (and recomputes nothing).
 */
import { and, eq, inArray, isNull, like, sql } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { Database } from "../../src/db/client.ts";
import * as schema from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { refreshShopRollups } from "../../src/services/analytics/rollups.ts";
import { recomputeShop } from "../../src/services/intelligence/compute.ts";
import { planDemoSales, type SalesPlan } from "./sales.ts";

const { auditLog, orderItems, orders, products, salesTransactions, shopLocations, shops, users } =
  schema;
type Db = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

const DAY_MS = 86_400_000;
/** Rows per INSERT: well under Postgres's 65,535 parameters for the widest table here. */
const CHUNK = 1_000;
/** The platform's default fee (PLATFORM_FEE_BPS=200), kept on each order as checkout does. */
const FEE_BPS = 200;
const ACTOR = { type: "system", id: null, requestId: "seed" } as const;

export interface DemoSalesOptions {
  months: number;
  seed: number;
  shopIds: string[];
  log: (msg: string) => void;
}

async function insertChunks<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await write(rows.slice(i, i + CHUNK));
}

/** Shops that already have demo sales: the seed never writes them twice. */
async function shopsWithSales(db: Db, shopIds: string[]): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ shopId: orders.shopId })
    .from(orders)
    .innerJoin(users, eq(users.id, orders.buyerId))
    .where(and(inArray(orders.shopId, shopIds), like(users.email, "shopper-%@souk.example")));
  return new Set(rows.map((r) => r.shopId));
}

async function write(tx: Tx, plan: SalesPlan, start: Date): Promise<void> {
  const shopIds = [...new Set(plan.customers.map((c) => c.shopId))];
  const facts = await tx
    .select({
      id: shops.id,
      currency: shops.currency,
      ownerId: shops.ownerId,
      warehouseId: shopLocations.id,
    })
    .from(shops)
    .innerJoin(
      shopLocations,
      and(
        eq(shopLocations.shopId, shops.id),
        eq(shopLocations.kind, "warehouse"),
        isNull(shopLocations.deletedAt),
      ),
    )
    .where(inArray(shops.id, shopIds));
  const shop = new Map(facts.map((f) => [f.id, f]));
  const productIds = [...new Set([...plan.orders, ...plan.offline].map((o) => o.productId))];
  const catalog = new Map(
    (
      await tx
        .select({ id: products.id, sku: products.sku, title: products.title })
        .from(products)
        .where(inArray(products.id, productIds))
    ).map((p) => [p.id, p]),
  );
  const of = <T>(map: Map<string, T>, key: string): T => {
    const v = map.get(key);
    if (!v) throw new Error(`demo sales: nothing known of ${key}`);
    return v;
  };

  await insertChunks(plan.customers, (chunk) =>
    tx
      .insert(users)
      .values(chunk.map((c) => ({ id: uuidv7(), email: c.email, displayName: c.name })))
      .onConflictDoNothing(),
  );
  const buyer = new Map(
    (
      await tx
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(and(like(users.email, "shopper-%@souk.example"), isNull(users.deletedAt)))
    ).map((u) => [u.email, u.id]),
  );
  // The products were listed before their history starts, or the forecasts would ignore it.
  await tx
    .update(products)
    .set({ createdAt: start })
    .where(and(inArray(products.id, productIds), sql`${products.createdAt} > ${start}`));

  const now = new Date();
  await insertChunks(plan.orders, async (chunk) => {
    await tx.insert(orders).values(
      chunk.map((o) => {
        const subtotal = o.unitPriceMinor * o.quantity;
        return {
          id: o.id,
          buyerId: of(buyer, o.customer),
          shopId: o.shopId,
          status: o.status,
          currency: of(shop, o.shopId).currency,
          subtotalMinor: subtotal,
          platformFeeMinor: Math.floor((subtotal * FEE_BPS) / 10_000),
          totalMinor: subtotal,
          refundedMinor: o.refundedMinor,
          paidAt: o.paidAt,
          createdAt: o.paidAt,
          // Written now: the rollup cron's watermark sees them as new.
          updatedAt: now,
        };
      }),
    );
    await tx.insert(orderItems).values(
      chunk.map((o) => ({
        id: uuidv7(o.paidAt.getTime()),
        orderId: o.id,
        productId: o.productId,
        title: of(catalog, o.productId).title,
        sku: of(catalog, o.productId).sku,
        unitPriceMinor: o.unitPriceMinor,
        quantity: o.quantity,
        locationId: of(shop, o.shopId).warehouseId,
        status: "picked" as const,
      })),
    );
  });
  const name = new Map(plan.customers.map((c) => [c.email, c.name]));
  await insertChunks(plan.offline, (chunk) =>
    tx.insert(salesTransactions).values(
      chunk.map((s) => ({
        id: s.id,
        shopId: s.shopId,
        productId: s.productId,
        locationId: of(shop, s.shopId).warehouseId,
        sku: of(catalog, s.productId).sku,
        title: of(catalog, s.productId).title,
        quantity: s.quantity,
        unitPriceMinor: s.unitPriceMinor,
        totalMinor: s.unitPriceMinor * s.quantity,
        currency: of(shop, s.shopId).currency,
        soldAt: s.soldAt,
        customerEmail: s.customer,
        customerName: s.customer ? (name.get(s.customer) ?? null) : null,
        source: "manual",
        movementId: s.id,
        createdBy: of(shop, s.shopId).ownerId,
        createdAt: now,
      })),
    ),
  );
  await tx.insert(auditLog).values(
    shopIds.map((shopId) => ({
      id: uuidv7(),
      actorType: ACTOR.type,
      requestId: ACTOR.requestId,
      action: "demo_sales.seeded",
      entityType: "shop",
      entityId: shopId,
      newValue: {
        orders: plan.orders.filter((o) => o.shopId === shopId).length,
        offlineSales: plan.offline.filter((s) => s.shopId === shopId).length,
        customers: plan.customers.filter((c) => c.shopId === shopId).length,
        from: start.toISOString(),
      },
    })),
  );
}

/** Plans, writes and rolls up the demo shops' sales (see the module comment). */
export async function seedDemoSales(db: Db, opts: DemoSalesOptions): Promise<void> {
  const done = await shopsWithSales(db, opts.shopIds);
  const todo = opts.shopIds.filter((id) => !done.has(id));
  if (done.size > 0) opts.log(`sales: ${done.size} shop(s) already have demo sales, left alone`);
  if (todo.length === 0 || opts.months <= 0) return;

  const now = new Date();
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const days = Math.round(opts.months * 30.44);
  const start = new Date(today.getTime() - days * DAY_MS);
  const fixed = await db
    .select({ id: products.id, shopId: products.shopId, priceMinor: products.priceMinor })
    .from(products)
    .where(
      and(
        inArray(products.shopId, todo),
        eq(products.listingType, "fixed"),
        isNull(products.deletedAt),
      ),
    )
    .orderBy(products.shopId, products.sku);
  let t0 = performance.now();
  const plan = planDemoSales({ seed: opts.seed, days, today, products: fixed });
  await db.transaction((tx) => write(tx, plan, start));
  opts.log(
    `sales: ${plan.orders.length} orders, ${plan.offline.length} offline sales, ` +
      `${plan.customers.length} customers over ${days} days for ${fixed.length} products ` +
      `(seed ${opts.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // The node-postgres drizzle client answers the same calls as the Worker's Pool client.
  const services = { db: db as unknown as Database, actor: ACTOR };
  t0 = performance.now();
  for (const shopId of todo) {
    await refreshShopRollups(services.db, shopId, { full: true });
    await recomputeShop(services, shopId, now);
  }
  opts.log(
    `sales: rollups, forecasts and customer segments computed in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
