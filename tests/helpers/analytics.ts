import { eq, sql } from "drizzle-orm";
import { orderItems, orders } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { refreshShopRollups } from "../../src/services/analytics/rollups.ts";
import { withDb } from "./db.ts";
import type { TestShop } from "./shops.ts";
import type { TestUser } from "./users.ts";

export interface SoldLine {
  productId: string;
  unitPriceMinor: number;
  quantity: number;
}

export interface PaidOrder {
  id: string;
  itemIds: string[];
}

/**
 * An order as the payment path leaves it once Stripe confirmed it (paid, `paid_at` set, the
 * platform fee at 2% of the subtotal), written straight to Postgres: the rollups read
 * Postgres, and the checkout and payment paths are tested on their own.
 */
export async function seedPaidOrder(
  shop: TestShop,
  buyer: TestUser,
  lines: SoldLine[],
  paidAt: Date,
): Promise<PaidOrder> {
  const id = uuidv7();
  const subtotal = lines.reduce((s, l) => s + l.unitPriceMinor * l.quantity, 0);
  const itemIds = lines.map(() => uuidv7());
  await withDb(async (db) => {
    await db.insert(orders).values({
      id,
      buyerId: buyer.id,
      shopId: shop.id,
      status: "paid",
      currency: "EUR",
      subtotalMinor: subtotal,
      platformFeeMinor: Math.round(subtotal * 0.02),
      totalMinor: subtotal,
      paidAt,
    });
    await db.insert(orderItems).values(
      lines.map((l, n) => ({
        id: itemIds[n] ?? uuidv7(),
        orderId: id,
        productId: l.productId,
        title: `Line ${n + 1}`,
        sku: `SKU-${n}`,
        unitPriceMinor: l.unitPriceMinor,
        quantity: l.quantity,
        locationId: shop.warehouseId,
      })),
    );
  });
  return { id, itemIds };
}

/** A refund as the refunds service records it: on the order (and the line, when it names one). */
export async function refund(order: PaidOrder, amountMinor: number, itemId?: string) {
  await withDb(async (db) => {
    await db
      .update(orders)
      .set({
        refundedMinor: sql`${orders.refundedMinor} + ${amountMinor}`,
        status: "partially_refunded",
        updatedAt: new Date(),
      })
      .where(eq(orders.id, order.id));
    if (itemId) {
      await db
        .update(orderItems)
        .set({ refundedMinor: amountMinor })
        .where(eq(orderItems.id, itemId));
    }
  });
}

/** Brings the shop's rollups up to date now (what the cron would do within 10 minutes). */
export function refreshRollups(shopId: string) {
  return withDb((db) => refreshShopRollups(db, shopId));
}
