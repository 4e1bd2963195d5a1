/**
 * Fixtures of the seller console's tests: a shop with a sales history written as paid orders
 * straight to Postgres (as the payment path leaves them once Stripe confirmed; that path has its
 * own tests), rolled up as the cron rolls them, and stock set through the seller API.
 */
import { eq } from "drizzle-orm";
import { type BenchShop, stockedProduct } from "../../scripts/bench/souk.ts";
import type { Database } from "../../src/db/client.ts";
import { orderItems, orders, products } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { refreshShopRollups } from "../../src/services/analytics/rollups.ts";
import { type Account, account, consoleUrl, type Db, sellerWithShop, tokenOf } from "./stack.ts";

const DAY_MS = 86_400_000;
export const UNIT_PRICE = 2_500;

function noonDaysAgo(days: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days, 12));
}

/** Units of the fast seller's one daily order, `days` days ago (more at weekends). */
export function unitsOn(days: number): number {
  const weekday = noonDaysAgo(days).getUTCDay();
  return weekday === 0 || weekday === 6 ? 14 : 8 + (days % 3);
}

export interface SellingShop {
  seller: Account;
  shop: BenchShop;
  buyers: Account[];
  /** Listed 90 days ago, one order a day for the last 60 days, 20 on hand at the branch. */
  fastId: string;
}

/** A paid order of one line, as the webhook leaves it. */
export async function paidOrder(
  db: Db["db"],
  shop: BenchShop,
  buyerId: string,
  line: { productId: string; quantity: number; title: string },
  opts: { paidAt?: Date; status?: "paid" | "ready"; fulfilment?: "delivery" | "pickup" } = {},
): Promise<{ orderId: string; itemId: string }> {
  const orderId = uuidv7();
  const itemId = uuidv7();
  const paidAt = opts.paidAt ?? new Date();
  const subtotal = UNIT_PRICE * line.quantity;
  await db.insert(orders).values({
    id: orderId,
    buyerId,
    shopId: shop.id,
    status: opts.status ?? "paid",
    currency: "EUR",
    subtotalMinor: subtotal,
    platformFeeMinor: Math.round(subtotal * 0.02),
    totalMinor: subtotal,
    fulfilment: opts.fulfilment ?? "delivery",
    pickupLocationId: opts.fulfilment === "pickup" ? shop.branchId : null,
    shippingAddress:
      opts.fulfilment === "pickup" ? null : { line1: "Rua Augusta 1", city: "Lisboa" },
    createdAt: new Date(paidAt.getTime() - 60_000),
    paidAt,
  });
  await db.insert(orderItems).values({
    id: itemId,
    orderId,
    productId: line.productId,
    title: line.title,
    sku: "FAST-1",
    unitPriceMinor: UNIT_PRICE,
    quantity: line.quantity,
    locationId: shop.branchId,
    status: opts.status === "ready" ? "picked" : "pending",
  });
  return { orderId, itemId };
}

/**
 * A shop that has sold its fast seller every day for 60 days to three buyers, rolled up (every
 * day rebuilt, as the first cron run does), so the dashboard and the forecasts have data.
 */
export async function sellingShop(db: Db["db"]): Promise<SellingShop> {
  const { seller, shop } = await sellerWithShop(db);
  const buyers = await Promise.all([0, 1, 2].map(() => account(db, "buyer")));
  const fastId = await stockedProduct(consoleUrl(), await tokenOf(seller), shop, 20, "Fast seller");
  await db
    .update(products)
    .set({ createdAt: new Date(Date.now() - 90 * DAY_MS) })
    .where(eq(products.id, fastId));
  for (let d = 1; d <= 60; d++) {
    await paidOrder(
      db,
      shop,
      buyers[d % buyers.length]?.id ?? seller.id,
      { productId: fastId, quantity: unitsOn(d), title: "Fast seller" },
      { paidAt: noonDaysAgo(d) },
    );
  }
  await refreshShopRollups(db as unknown as Database, shop.id, { full: true });
  return { seller, shop, buyers, fastId };
}
