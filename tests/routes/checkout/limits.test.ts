import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../../src/db/schema/index.ts";
import {
  DEFAULT_MAX_PER_BUYER,
  MAX_OPEN_CHECKOUTS,
} from "../../../src/services/checkout/limits.ts";
import { buyer, buyShop, levelAt, stockedProduct } from "../../helpers/cart.ts";
import { type CheckoutBody, confirm, purchasesOf } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api } from "../../helpers/http.ts";

const pickup = (shop: { id: string; branchId: string }) => [
  { shopId: shop.id, method: "pickup" as const, locationId: shop.branchId },
];

describe("what one buyer may hold at once (stock hoarding)", () => {
  it("refuses more units than the product's limit per buyer, the seller's or the default, and holds nothing", async () => {
    const shop = await buyShop();
    const [capped, plain, u] = await Promise.all([
      stockedProduct(shop, { branch: 50 }),
      stockedProduct(shop, { branch: 50 }),
      buyer(),
    ]);
    const set = (maxPerBuyer: unknown) =>
      api<{ maxPerBuyer: number | null }>("PATCH", `/v1/seller/products/${capped.id}`, {
        token: shop.owner.accessToken,
        body: { maxPerBuyer },
      });
    expect((await set(0)).status).toBe(422);
    const capping = await set(2);
    expect(capping.status).toBe(200);
    expect(capping.body.maxPerBuyer).toBe(2);
    const tooMany = await confirm(u, {
      items: [{ productId: capped.id, quantity: 3 }],
      fulfilment: pickup(shop),
    });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body).toMatchObject({
      reason: "per_buyer_limit",
      lines: [{ productId: capped.id, requested: 3, limit: 2 }],
    });
    const overDefault = await confirm(u, {
      items: [{ productId: plain.id, quantity: DEFAULT_MAX_PER_BUYER + 1 }],
      fulfilment: pickup(shop),
    });
    expect(overDefault.status).toBe(409);
    expect(overDefault.body).toMatchObject({ reason: "per_buyer_limit" });
    expect(await levelAt(capped.id, shop.branchId)).toMatchObject({ reserved: 0 });
    expect(await levelAt(plain.id, shop.branchId)).toMatchObject({ reserved: 0 });
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
  });

  it("replaces the buyer's unpaid checkout of the same product instead of adding to its hold", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { branch: 10 }), buyer()]);
    const body = (quantity: number): CheckoutBody => ({
      items: [{ productId: p.id, quantity }],
      fulfilment: pickup(shop),
    });
    const first = await confirm(u, body(4));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await confirm(u, body(3));
    expect(second.status, JSON.stringify(second.body)).toBe(201);

    const { checkouts, orders } = await purchasesOf(u.id);
    const byId = new Map(checkouts.map((c) => [c.id, c.status]));
    expect(byId.get(first.body.checkoutId)).toBe("voided");
    expect(byId.get(second.body.checkoutId)).toBe("open");
    const statusOf = (checkoutId: string) =>
      orders.filter((o) => o.checkoutId === checkoutId).map((o) => o.status);
    expect(statusOf(first.body.checkoutId)).toEqual(["cancelled"]);
    expect(statusOf(second.body.checkoutId)).toEqual(["pending_payment"]);
    // The old hold goes back after the answer: only the new one's 3 units stay held.
    await eventually(async () => {
      const level = await levelAt(p.id, shop.branchId);
      return level.reserved === 3 ? level : undefined;
    });
    const oldOrder = orders.find((o) => o.checkoutId === first.body.checkoutId);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(eq(auditLog.entityId, oldOrder?.id ?? "")),
    );
    expect(audits.map((a) => a.action)).toContain("order.cancelled");
    expect(audits.find((a) => a.action === "order.cancelled")?.newValue).toMatchObject({
      reason: "replaced_by_checkout",
      by: second.body.checkoutId,
    });
  });

  it(`refuses a buyer's checkout past ${MAX_OPEN_CHECKOUTS} unpaid at once (429 naming the limit)`, async () => {
    const shop = await buyShop();
    const [u, ...ps] = await Promise.all([
      buyer(),
      ...Array.from({ length: MAX_OPEN_CHECKOUTS + 1 }, () => stockedProduct(shop, { branch: 3 })),
    ]);
    for (const p of ps.slice(0, MAX_OPEN_CHECKOUTS)) {
      const ok = await confirm(u, {
        items: [{ productId: p.id, quantity: 1 }],
        fulfilment: pickup(shop),
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    }
    const last = ps[MAX_OPEN_CHECKOUTS];
    const refused = await confirm(u, {
      items: [{ productId: last?.id ?? "", quantity: 1 }],
      fulfilment: pickup(shop),
    });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("RATE_LIMITED");
    expect(refused.body.detail).toMatch(/open_checkouts/);
    expect(await levelAt(last?.id ?? "", shop.branchId)).toMatchObject({ reserved: 0 });
    expect((await purchasesOf(u.id)).checkouts).toHaveLength(MAX_OPEN_CHECKOUTS);
  });
});
