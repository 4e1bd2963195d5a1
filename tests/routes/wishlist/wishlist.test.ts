import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shops } from "../../../src/db/schema/index.ts";
import { buyer, buyShop, stockedProduct } from "../../helpers/cart.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import type { TestUser } from "../../helpers/users.ts";

interface WishlistItem {
  productId: string;
  title: string;
  priceMinor: number;
  currency: string;
  listingType: string;
  shop: { id: string };
  availability: { status: string; quantity: number | null };
}
interface WishlistPage {
  items: WishlistItem[];
  nextCursor: string | null;
}

const add = (u: TestUser, productId: string) =>
  api<WishlistItem & Problem>("POST", "/v1/wishlist", {
    token: u.accessToken,
    body: { productId },
  });

const list = (u: TestUser, query = "") =>
  api<WishlistPage>("GET", `/v1/wishlist${query}`, { token: u.accessToken });

describe("/v1/wishlist", () => {
  it("adds once, lists with current price and availability, removes", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 2490, warehouse: 4 }),
      buyer(),
    ]);
    const first = await add(u, p.id);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      productId: p.id,
      priceMinor: 2490,
      currency: "EUR",
      availability: { status: "in_stock", quantity: 4 },
    });
    expect((await add(u, p.id)).status).toBe(200);

    await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { priceMinor: 1990 },
    });
    const page = await list(u);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ productId: p.id, priceMinor: 1990 });

    expect((await api("DELETE", `/v1/wishlist/${p.id}`, { token: u.accessToken })).status).toBe(
      204,
    );
    expect((await list(u)).body.items).toEqual([]);
    expect((await api("DELETE", `/v1/wishlist/${p.id}`, { token: u.accessToken })).status).toBe(
      404,
    );
  });

  it("takes auction listings, refuses what a buyer cannot see", async () => {
    const shop = await buyShop();
    const [auction, draft, u] = await Promise.all([
      stockedProduct(shop, { listingType: "auction" }),
      stockedProduct(shop),
      buyer(),
    ]);
    await api("PATCH", `/v1/seller/products/${draft.id}`, {
      token: shop.owner.accessToken,
      body: { status: "draft" },
    });
    expect((await add(u, auction.id)).body.listingType).toBe("auction");
    expect((await add(u, draft.id)).status).toBe(404);
    expect((await add(u, crypto.randomUUID())).status).toBe(404);
    const bad = await add(u, "not-a-uuid");
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.[0]?.field).toBe("productId");
  });

  it("leaves out products whose shop was hidden, and brings them back when it returns", async () => {
    const [visible, hidden] = await Promise.all([buyShop(), buyShop()]);
    const [a, b, u] = await Promise.all([stockedProduct(visible), stockedProduct(hidden), buyer()]);
    await add(u, a.id);
    await add(u, b.id);
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, hidden.id)),
    );
    expect((await list(u)).body.items.map((i) => i.productId)).toEqual([a.id]);
    await withDb((db) =>
      db.update(shops).set({ status: "approved" }).where(eq(shops.id, hidden.id)),
    );
    expect((await list(u)).body.items.map((i) => i.productId).sort()).toEqual([a.id, b.id].sort());
  });

  it("pages newest first with a cursor, and shows no one else's list", async () => {
    const shop = await buyShop();
    const [u, other] = await Promise.all([buyer(), buyer()]);
    const products = [];
    for (let i = 0; i < 3; i++) {
      const p = await stockedProduct(shop);
      expect((await add(u, p.id)).status).toBe(201);
      products.push(p.id);
    }
    const one = await list(u, "?limit=2");
    expect(one.body.items.map((i) => i.productId)).toEqual([products[2], products[1]]);
    expect(one.body.nextCursor).not.toBeNull();
    const two = await list(u, `?limit=2&cursor=${one.body.nextCursor}`);
    expect(two.body.items.map((i) => i.productId)).toEqual([products[0]]);
    expect(two.body.nextCursor).toBeNull();
    expect((await list(u, "?cursor=garbage")).status).toBe(422);

    expect((await list(other)).body.items).toEqual([]);
    const steal = await api("DELETE", `/v1/wishlist/${products[0]}`, {
      token: other.accessToken,
    });
    expect(steal.status).toBe(404);
    expect((await list(u)).body.items).toHaveLength(3);
  });
});
