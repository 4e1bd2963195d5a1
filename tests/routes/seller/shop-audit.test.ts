import { describe, expect, it } from "vitest";
import { createProduct, seedCategory } from "../../helpers/catalog.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";
import { setStock } from "../../helpers/seller-stock.ts";
import { createAdmin, seedMember, seedShop } from "../../helpers/shops.ts";
import { eventually, seedCheckout } from "../../helpers/stripe.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

interface Entry {
  id: string;
  action: string;
  entityType: string;
  entityId: string;
  actorId: string | null;
}
interface AuditPage {
  items: Entry[];
  nextCursor: string | null;
}

const trail = (who: TestUser, shopId: string, qs = "") =>
  api<AuditPage & Problem>("GET", `/v1/seller/shops/${shopId}/audit?${qs || "limit=100"}`, {
    token: who.accessToken,
  });

const invite = async (owner: TestUser, shopId: string) => {
  const res = await api("POST", `/v1/shops/${shopId}/staff`, {
    token: owner.accessToken,
    body: { email: uniqueEmail("invitee"), role: "staff" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

describe("GET /v1/seller/shops/{id}/audit", () => {
  it("shows owners and managers the rows of the shop, its team, products, stock and orders, and none of another shop", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 1_200, quantity: 1 }] }],
    });
    const [order] = checkout.orders;
    if (!order) throw new Error("seed");
    const shop = order.shop;
    const [manager, category, other] = await Promise.all([
      registerUser("seller"),
      seedCategory(),
      seedShop(),
    ]);
    await seedMember(shop.id, manager, "manager");

    await invite(shop.owner, shop.id);
    const mine = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
    });
    const set = await setStock(manager.accessToken, mine.id, shop.warehouseId, 7);
    const theirs = await createProduct(other.owner.accessToken, {
      shopId: other.id,
      categoryId: category.id,
    });
    const cancelled = await api("POST", `/v1/orders/${order.id}/cancel`, {
      token: checkout.buyer.accessToken,
      body: { reason: "changed my mind" },
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);

    // Stock movements reach Postgres (and the audit log) through the object's outbox.
    const rows = await eventually(
      async () => {
        const res = await trail(manager, shop.id);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const items = res.body.items;
        const mirrored =
          items.some((e) => e.entityId === set.movement.id) &&
          items.some((e) => e.action === "stock.released");
        return mirrored ? items : undefined;
      },
      undefined,
      "the shop's stock movements in its trail",
    );
    const has = (entityType: string, entityId: string, action: string) =>
      expect(rows).toContainEqual(expect.objectContaining({ entityType, entityId, action }));
    has("shop", shop.id, "shop.invitation.created");
    has("product", mine.id, "product.created");
    has("stock_movement", set.movement.id, "stock.set");
    has("order", order.id, "order.cancelled");
    // The seeded order's reservation, released by the cancel, is a movement of the shop's product.
    expect(rows).toContainEqual(
      expect.objectContaining({ entityType: "stock_movement", action: "stock.released" }),
    );
    expect(rows.map((e) => e.entityId)).not.toContain(theirs.id);
    expect(rows.map((e) => e.entityType)).not.toContain("checkout");

    const asOwner = await trail(shop.owner, shop.id);
    expect(asOwner.status).toBe(200);
    expect(asOwner.body.items.map((e) => e.id)).toEqual(
      expect.arrayContaining(rows.map((e) => e.id)),
    );
    const othersTrail = await trail(other.owner, other.id);
    expect(othersTrail.body.items.map((e) => [e.entityId, e.action])).toEqual([
      [theirs.id, "product.created"],
    ]);
  });

  it("filters a shop's trail by action, entity type and since, a page at a time", async () => {
    const shop = await seedShop();
    const category = await seedCategory();
    const since = encodeURIComponent(new Date(Date.now() - 1000).toISOString());
    const a = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
    });
    const b = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
    });
    await invite(shop.owner, shop.id);
    const owner = shop.owner;

    const products = await trail(owner, shop.id, "entityType=product");
    expect(products.body.items.map((e) => e.entityId)).toEqual([b.id, a.id]);
    const first = await trail(owner, shop.id, "action=product.&limit=1");
    expect(first.body.items.map((e) => e.entityId)).toEqual([b.id]);
    const second = await trail(
      owner,
      shop.id,
      `action=product.*&limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((e) => e.entityId)).toEqual([a.id]);
    expect(second.body.nextCursor).toBeNull();
    const invited = await trail(owner, shop.id, "action=shop.invitation.created");
    expect(invited.body.items.map((e) => [e.entityType, e.entityId])).toEqual([["shop", shop.id]]);
    expect((await trail(owner, shop.id, `since=${since}`)).body.items).toHaveLength(3);
    const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await trail(owner, shop.id, `since=${later}`)).body.items).toEqual([]);

    const outside = await trail(owner, shop.id, "entityType=checkout");
    expect(outside.status).toBe(422);
    expect(outside.body.errors?.map((e) => e.field)).toContain("entityType");
    expect((await trail(owner, shop.id, "cursor=garbage")).status).toBe(422);
  });

  it("answers 404 to anyone outside the shop, admins included, and 403 to its staff", async () => {
    const shop = await seedShop();
    const [staff, stranger, admin] = await Promise.all([
      registerUser("seller"),
      registerUser("seller"),
      createAdmin(),
    ]);
    await seedMember(shop.id, staff, "staff");

    const refused = await trail(staff, shop.id);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("FORBIDDEN");
    for (const who of [stranger, admin]) {
      const res = await trail(who, shop.id);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    expect((await trail(shop.owner, crypto.randomUUID())).status).toBe(404);
  });
});
