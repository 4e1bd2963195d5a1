import { inArray, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { idempotencyKeys } from "../../../src/db/schema/index.ts";
import { seedBidders } from "../../helpers/auctions.ts";
import { buyShop, levelAt, stockedProduct } from "../../helpers/cart.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";

/** The embedded database serves one session in turns: the burst is scaled down there. */
async function onPglite(): Promise<boolean> {
  const rows = await withDb((db) => db.execute<{ v: string }>(sql`select version() as v`));
  return /emscripten|wasm/i.test(rows.rows[0]?.v ?? "");
}

describe("a flash sale burst on buy now", () => {
  it("answers every confirm with 201 or 409 INSUFFICIENT_STOCK, never 5xx, and stock adds up", async () => {
    // `npm run burst` drives the full 300-on-100 burst against the embedded database.
    const [buyers, units] = (await onPglite()) ? [60, 20] : [300, 100];
    const shop = await buyShop();
    const [product, bidders] = await Promise.all([
      stockedProduct(shop, { branch: units, priceMinor: 2500, title: "Flash" }),
      seedBidders(buyers),
    ]);
    const body = {
      items: [{ productId: product.id, quantity: 1 }],
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    };

    const answers = await Promise.all(
      bidders.map((b) =>
        api<{ code?: string }>("POST", "/v1/checkout/confirm", {
          token: b.token,
          body,
          headers: { "idempotency-key": crypto.randomUUID() },
        }),
      ),
    );

    const tally: Record<string, number> = {};
    for (const a of answers) {
      const key = `${a.status} ${a.body.code ?? ""}`.trim();
      tally[key] = (tally[key] ?? 0) + 1;
    }
    expect(tally).toEqual({ "201": units, "409 INSUFFICIENT_STOCK": buyers - units });

    expect(await levelAt(product.id, shop.branchId)).toMatchObject({
      onHand: units,
      reserved: units,
      available: 0,
    });
    const sold = await withDb((db) =>
      db.execute<{ orders: number; units: number }>(
        sql`select count(distinct o.id)::int as orders, coalesce(sum(oi.quantity), 0)::int as units
              from order_items oi join orders o on o.id = oi.order_id
             where oi.product_id = ${product.id} and o.status = 'pending_payment'`,
      ),
    );
    expect(sold.rows[0]).toEqual({ orders: units, units });
    // No idempotency record is left in progress: each key finished with its answer.
    const keys = await withDb((db) =>
      db
        .select({ state: idempotencyKeys.state })
        .from(idempotencyKeys)
        .where(
          inArray(
            idempotencyKeys.userId,
            bidders.map((b) => b.id),
          ),
        ),
    );
    // 201s are stored as done; a 409 drops its record so the buyer may retry with the same key.
    expect(keys.map((k) => k.state)).toEqual(Array(units).fill("done"));
  }, 240_000);
});
