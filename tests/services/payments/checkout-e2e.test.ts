import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, shops, stockMovements } from "../../../src/db/schema/index.ts";
import { auditActions } from "../../helpers/audit.ts";
import {
  addressOf,
  addToCart,
  buyer,
  buyShop,
  cartOf,
  levelAt,
  stockedProduct,
} from "../../helpers/cart.ts";
import { confirm, preview, purchasesOf } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import {
  eventually,
  forwardDelivery,
  onboardedAccount,
  pay,
  processed,
  stripeClient,
} from "../../helpers/stripe.ts";

const stripe = stripeClient();

/** A shop buyers can buy from, paid out to a real (emulated) connected account. */
async function paidOutShop() {
  const shop = await buyShop();
  const accountId = await onboardedAccount();
  await withDb((db) =>
    db
      .update(shops)
      .set({ stripeAccountId: accountId, payoutsEnabled: true })
      .where(eq(shops.id, shop.id)),
  );
  return { ...shop, accountId };
}

describe("cart → preview → confirm → pay → webhook → queue", () => {
  it("ends with the orders paid, the stock sold, each shop paid its share less the fee, everyone told, every step audited", async () => {
    const [a, b, u] = await Promise.all([paidOutShop(), paidOutShop(), buyer()]);
    const [pa, pb] = await Promise.all([
      stockedProduct(a, { priceMinor: 2_000, warehouse: 5, title: "Bowl" }),
      stockedProduct(b, { priceMinor: 1_500, branch: 2, title: "Cup" }),
    ]);
    const addressId = await addressOf(u);
    await addToCart(u, pa.id, 2);
    await addToCart(u, pb.id, 1);
    const fulfilment = [
      { shopId: a.id, method: "delivery" as const, addressId },
      { shopId: b.id, method: "pickup" as const, locationId: b.branchId },
    ];
    const seen = await preview(u, { fulfilment });
    expect(seen.status).toBe(200);
    const confirmed = await confirm(u, { fulfilment, expectedTotalMinor: seen.body.totalMinor });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(201);
    const c = confirmed.body;
    expect(await levelAt(pa.id, a.warehouseId)).toMatchObject({ onHand: 5, reserved: 2 });
    expect(await levelAt(pb.id, b.branchId)).toMatchObject({ onHand: 2, reserved: 1 });
    expect((await cartOf(u)).lines).toEqual([]);

    // The buyer pays in the browser (Stripe.js → the emulator); Stripe sends the webhook.
    expect((await pay(c.paymentIntentId)).status).toBe("succeeded");
    const delivery = await forwardDelivery("payment_intent.succeeded", c.paymentIntentId);
    expect(delivery.status).toBe(200);
    expect((await processed(delivery.eventId)).outcome).toBe("succeeded paid:2 transfers:2");

    const after = await purchasesOf(u.id);
    expect(after.checkouts[0]?.status).toBe("succeeded");
    expect(after.orders.map((o) => o.status)).toEqual(["paid", "paid"]);

    // Sold: on hand down, nothing left reserved.
    expect(await levelAt(pa.id, a.warehouseId)).toMatchObject({
      onHand: 3,
      reserved: 0,
      available: 3,
    });
    expect(await levelAt(pb.id, b.branchId)).toMatchObject({
      onHand: 1,
      reserved: 0,
      available: 1,
    });

    // Each shop's share (order total − platform fee) went to its account; Souk kept the fees.
    const moved = (await stripe.transfers.list({ transfer_group: c.checkoutId })).data;
    expect(moved).toHaveLength(2);
    for (const o of c.orders) {
      const shop = o.shopId === a.id ? a : b;
      expect(moved.find((t) => t.destination === shop.accountId)).toMatchObject({
        amount: o.totalMinor - o.platformFeeMinor,
        currency: "eur",
        metadata: { order_id: o.id },
      });
    }
    expect(c.amountMinor - moved.reduce((s, t) => s + t.amount, 0)).toBe(c.platformFeeMinor);

    for (const o of c.orders) {
      expect(await auditActions(o.id, { entityType: "order" })).toEqual([
        "order.created",
        "order.paid",
        "transfer.created",
      ]);
    }
    // The sale reaches the Postgres stock mirror (through each object's outbox) as commits.
    await eventually(
      async () => {
        const rows = await withDb((db) =>
          db
            .select({ kind: stockMovements.kind })
            .from(stockMovements)
            .where(
              and(
                inArray(stockMovements.productId, [pa.id, pb.id]),
                eq(stockMovements.kind, "commit"),
              ),
            ),
        );
        return rows.length === 2 ? rows : undefined;
      },
      undefined,
      "the two commit movements in the mirror",
    );

    const keys = c.orders.flatMap((o) => [`order-paid:${o.id}:buyer`, `order-paid:${o.id}:shop`]);
    const notes = await eventually(
      async () => {
        const rows = await withDb((db) =>
          db.select().from(notifications).where(inArray(notifications.dedupeKey, keys)),
        );
        return rows.length === 4 ? rows : undefined;
      },
      undefined,
      "receipts and seller notices",
    );
    expect(notes.filter((n) => n.userId === u.id)).toHaveLength(2);
    expect(notes.filter((n) => n.userId === a.owner.id || n.userId === b.owner.id)).toHaveLength(2);
  });
});
