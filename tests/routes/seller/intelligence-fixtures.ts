import { eq } from "drizzle-orm";
import { orderItems, orders, products, users } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { refreshShopRollups } from "../../../src/services/analytics/rollups.ts";
import type { SellerProduct } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { uniqueEmail } from "../../helpers/http.ts";
import { flush, product, type StockShop, setStock, stockShop } from "../../helpers/seller-stock.ts";

export interface IntelligenceShop {
  shop: StockShop;
  /** ~10 a day (more at weekends) for 60 days; 20 on hand: runs out within the lead time. */
  fast: SellerProduct;
  /** One unit every fifth day; 30 on hand: months of cover. */
  slow: SellerProduct;
  /** Sold for the last 10 days only: not enough history. */
  fresh: SellerProduct;
  /** Listed 120 days ago, never sold, 40 on hand. */
  idle: SellerProduct;
  /** Bought weekly from 150 to 80 days ago, nothing since. */
  lapsed: string;
  /** Buyers who bought in the last 60 days. */
  recent: string[];
}

const DAY = 86_400_000;
const noonDaysAgo = (days: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days, 12));
};

/**
 * A shop with a sales history written as paid orders straight to Postgres (the checkout and
 * payment paths are tested on their own), rolled up into `sales_daily` by the analytics
 * rollup, and stock set through the API and flushed to the mirror.
 */
export async function intelligenceShop(): Promise<IntelligenceShop> {
  const shop = await stockShop();
  const [fast, slow, fresh, idle] = await Promise.all([
    product(shop, { title: "Fast seller" }),
    product(shop, { title: "Slow mover" }),
    product(shop, { title: "Fresh arrival" }),
    product(shop, { title: "Idle stock" }),
  ]);
  const buyerIds = Array.from({ length: 7 }, () => uuidv7());
  const [lapsed, ...recent] = buyerIds as [string, ...string[]];
  const rows: Array<{
    buyerId: string;
    paidAt: Date;
    lines: Array<{ productId: string; quantity: number }>;
  }> = [];
  for (let d = 1; d <= 60; d++) {
    const at = noonDaysAgo(d);
    const weekend = at.getUTCDay() === 0 || at.getUTCDay() === 6;
    const lines = [{ productId: fast.id, quantity: weekend ? 14 : 8 + (d % 3) }];
    if (d % 5 === 0) lines.push({ productId: slow.id, quantity: 1 });
    if (d <= 10) lines.push({ productId: fresh.id, quantity: 2 });
    rows.push({ buyerId: recent[d % recent.length] ?? lapsed, paidAt: at, lines });
  }
  for (let d = 150; d >= 80; d -= 7) {
    rows.push({
      buyerId: lapsed,
      paidAt: noonDaysAgo(d),
      lines: [{ productId: fast.id, quantity: 5 }],
    });
  }
  await withDb(async (db) => {
    await db
      .insert(users)
      .values(
        buyerIds.map((id, n) => ({ id, email: uniqueEmail("buyer"), displayName: `Buyer ${n}` })),
      );
    await db
      .update(products)
      .set({ createdAt: new Date(Date.now() - 120 * DAY) })
      .where(eq(products.id, idle.id));
    const orderRows = rows.map((r) => {
      const subtotal = r.lines.reduce((s, l) => s + l.quantity * 1000, 0);
      return {
        id: uuidv7(),
        buyerId: r.buyerId,
        shopId: shop.id,
        status: "paid" as const,
        currency: "EUR",
        subtotalMinor: subtotal,
        platformFeeMinor: Math.round(subtotal * 0.02),
        totalMinor: subtotal,
        paidAt: r.paidAt,
      };
    });
    await db.insert(orders).values(orderRows);
    await db.insert(orderItems).values(
      rows.flatMap((r, i) =>
        r.lines.map((l) => ({
          id: uuidv7(),
          orderId: orderRows[i]?.id ?? "",
          productId: l.productId,
          title: "Line",
          sku: "SKU",
          unitPriceMinor: 1000,
          quantity: l.quantity,
          locationId: shop.warehouseId,
        })),
      ),
    );
    await refreshShopRollups(db, shop.id, { full: true });
  });
  const token = shop.owner.accessToken;
  await setStock(token, fast.id, shop.warehouseId, 20);
  await setStock(token, slow.id, shop.warehouseId, 30);
  await setStock(token, idle.id, shop.warehouseId, 40);
  await Promise.all([flush(fast.id), flush(slow.id), flush(idle.id)]);
  return { shop, fast, slow, fresh, idle, lapsed, recent };
}
