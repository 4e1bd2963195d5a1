import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../../src/db/schema/index.ts";
import { auditRows } from "../../helpers/audit.ts";
import { createProduct, seedCategory } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import {
  flush,
  levelAt,
  product,
  setStock,
  stockOf,
  stockShop,
} from "../../helpers/seller-stock.ts";
import { seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Sale {
  id: string;
  productId: string;
  sku: string;
  locationId: string;
  quantity: number;
  unitPriceMinor: number;
  totalMinor: number;
  currency: string;
  soldAt: string;
  customer: { email: string | null; phone: string | null; name: string | null } | null;
  movementId: string;
  source: string;
}

type SaleResult = { sale: Sale; replayed: boolean } & Problem;

function sell(
  token: string,
  body: Record<string, unknown>,
  key?: string,
): Promise<ApiResponse<SaleResult>> {
  return api<SaleResult>("POST", "/v1/seller/transactions", {
    token,
    body,
    ...(key ? { headers: { "idempotency-key": key } } : {}),
  });
}

function list(token: string, query: string) {
  return api<{ items: Sale[]; nextCursor: string | null } & Problem>(
    "GET",
    `/v1/seller/transactions?${query}`,
    { token },
  );
}

/** A shop (warehouse and branch) with one product holding `onHand` units at its warehouse. */
async function stocked(onHand: number) {
  const shop = await stockShop();
  const p = await product(shop);
  if (onHand > 0) await setStock(shop.owner.accessToken, p.id, shop.warehouseId, onHand);
  /** A sale of `quantity` of the product from the warehouse. */
  const line = (quantity: number, extra: Record<string, unknown> = {}) => ({
    shopId: shop.id,
    productId: p.id,
    quantity,
    locationId: shop.warehouseId,
    ...extra,
  });
  return { shop, p, line };
}

describe("POST /v1/seller/transactions", () => {
  it("takes the units out of the location's stock and records the sale at the product's price", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 10);

    const res = await sell(shop.manager.accessToken, {
      shopId: shop.id,
      productId: p.id,
      quantity: 3,
      locationId: shop.branchId,
      customer: { email: "Ana@Example.test", name: "Ana" },
    });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.replayed).toBe(false);
    expect(res.body.sale).toMatchObject({
      productId: p.id,
      sku: p.sku,
      locationId: shop.branchId,
      quantity: 3,
      unitPriceMinor: 1000,
      totalMinor: 3000,
      currency: "EUR",
      source: "manual",
      customer: { email: "ana@example.test", phone: null, name: "Ana" },
    });
    expect(res.body.sale.movementId).toBe(res.body.sale.id);
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.branchId)).toMatchObject({ onHand: 7, available: 7 });
  });

  it("writes an audit row for the sale and one for its stock movement", async () => {
    const { shop, p, line } = await stocked(5);
    const res = await sell(shop.owner.accessToken, line(2));
    expect(res.status).toBe(201);
    const saleAudit = await withDb((db) =>
      db.select().from(auditLog).where(eq(auditLog.entityId, res.body.sale.id)),
    );
    expect(saleAudit.map((a) => [a.action, a.entityType])).toContainEqual([
      "sale.record",
      "sales_transaction",
    ]);
    await flush(p.id);
    expect(
      await auditRows([res.body.sale.movementId], { entityType: "stock_movement" }),
    ).toHaveLength(1);
  });

  it("finds the product by the shop's SKU and takes a given price and time", async () => {
    const shop = await stockShop();
    const p = await product(shop, { sku: `TILL-${crypto.randomUUID().slice(0, 6)}` });
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 4);
    const res = await sell(shop.owner.accessToken, {
      shopId: shop.id,
      sku: p.sku,
      quantity: 4,
      unitPriceMinor: 750,
      soldAt: "2026-06-01T10:30:00Z",
      locationId: shop.warehouseId,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.sale).toMatchObject({
      productId: p.id,
      totalMinor: 3000,
      soldAt: "2026-06-01T10:30:00.000Z",
    });
  });

  it("sells from the shop's only location when none is named", async () => {
    const owner = await registerUser("seller");
    const shop = await seedShop({}, owner);
    const category = await seedCategory();
    const p = await createProduct(owner.accessToken, { shopId: shop.id, categoryId: category.id });
    await setStock(owner.accessToken, p.id, shop.warehouseId, 2);
    const res = await sell(owner.accessToken, { shopId: shop.id, productId: p.id, quantity: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.sale.locationId).toBe(shop.warehouseId);
  });

  it("asks for locationId when the shop has several locations", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const res = await sell(shop.owner.accessToken, {
      shopId: shop.id,
      productId: p.id,
      quantity: 1,
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["locationId"]);
  });

  it("refuses with 409 INSUFFICIENT_STOCK when fewer units are free, and records nothing", async () => {
    const { shop, line } = await stocked(2);
    const res = await sell(shop.owner.accessToken, line(3));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("INSUFFICIENT_STOCK");
    const listed = await list(shop.owner.accessToken, `shopId=${shop.id}`);
    expect(listed.body.items).toEqual([]);
  });

  it("replays the first sale for the same Idempotency-Key without taking stock twice", async () => {
    const { shop, p, line } = await stocked(10);
    const body = line(4);
    const key = crypto.randomUUID();
    const first = await sell(shop.owner.accessToken, body, key);
    const again = await sell(shop.owner.accessToken, body, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.sale.id).toBe(first.body.sale.id);
    expect(again.body.replayed).toBe(true);
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId).onHand).toBe(6);
  });

  it("names productId when both or neither of productId and sku are given", async () => {
    const { shop, p, line } = await stocked(0);
    const both = await sell(shop.owner.accessToken, line(1, { sku: p.sku }));
    const neither = await sell(shop.owner.accessToken, line(1, { productId: undefined }));
    for (const res of [both, neither]) {
      expect(res.status).toBe(422);
      expect(res.body.errors?.map((e) => e.field)).toContain("productId");
    }
  });

  it("refuses a sale dated in the future, naming soldAt", async () => {
    const { shop, line } = await stocked(0);
    const soldAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await sell(shop.owner.accessToken, line(1, { soldAt }));
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["soldAt"]);
  });

  it("refuses another shop's product, naming the field", async () => {
    const shop = await stockShop();
    const other = await stockShop();
    const theirs = await product(other);
    const res = await sell(shop.owner.accessToken, {
      shopId: shop.id,
      productId: theirs.id,
      quantity: 1,
      locationId: shop.warehouseId,
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["productId"]);
  });

  it("is 403 for staff and 404 for someone outside the shop", async () => {
    const { shop, line } = await stocked(0);
    const outsider = await registerUser("seller");
    const body = line(1);
    expect((await sell(shop.staff.accessToken, body)).status).toBe(403);
    expect((await sell(outsider.accessToken, body)).status).toBe(404);
  });
});

describe("GET /v1/seller/transactions", () => {
  it("lists newest sale first, filters by product and customer, and pages with a cursor", async () => {
    const shop = await stockShop();
    const [a, b] = await Promise.all([product(shop), product(shop)]);
    await setStock(shop.owner.accessToken, a.id, shop.warehouseId, 20);
    await setStock(shop.owner.accessToken, b.id, shop.warehouseId, 20);
    const at = (d: number) => `2026-05-0${d}T12:00:00Z`;
    for (const [p, day, name] of [
      [a, 1, "Rui"],
      [b, 2, "Ana"],
      [a, 3, "Ana Sousa"],
    ] as const) {
      const res = await sell(shop.owner.accessToken, {
        shopId: shop.id,
        productId: p.id,
        quantity: 1,
        locationId: shop.warehouseId,
        soldAt: at(day),
        customer: { name },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    const all = await list(shop.manager.accessToken, `shopId=${shop.id}&limit=2`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((s) => s.soldAt)).toEqual([
      "2026-05-03T12:00:00.000Z",
      "2026-05-02T12:00:00.000Z",
    ]);
    const next = await list(
      shop.manager.accessToken,
      `shopId=${shop.id}&limit=2&cursor=${all.body.nextCursor}`,
    );
    expect(next.body.items.map((s) => s.soldAt)).toEqual(["2026-05-01T12:00:00.000Z"]);
    expect(next.body.nextCursor).toBeNull();

    const ofA = await list(shop.owner.accessToken, `shopId=${shop.id}&productId=${a.id}`);
    expect(ofA.body.items).toHaveLength(2);
    const ana = await list(shop.owner.accessToken, `shopId=${shop.id}&customer=ana`);
    expect(ana.body.items.map((s) => s.customer?.name)).toEqual(["Ana Sousa", "Ana"]);
    const window = await list(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(3))}`,
    );
    expect(window.body.items.map((s) => s.productId)).toEqual([b.id]);
  });

  it("refuses a cursor it did not make, naming it", async () => {
    const shop = await stockShop();
    const res = await list(shop.owner.accessToken, `shopId=${shop.id}&cursor=not-a-cursor`);
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["cursor"]);
  });

  it("is 404 for someone outside the shop", async () => {
    const shop = await stockShop();
    const outsider = await registerUser("seller");
    expect((await list(outsider.accessToken, `shopId=${shop.id}`)).status).toBe(404);
  });
});
