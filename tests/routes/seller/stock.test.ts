import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { api, type Problem } from "../../helpers/http.ts";
import {
  adjust,
  flush,
  levelAt,
  mirrorOf,
  product,
  setStock,
  stockOf,
  stockShop,
  stub,
} from "../../helpers/seller-stock.ts";
import { seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

describe("GET /v1/seller/products/{id}/stock", () => {
  it("lists every location of the shop from the object, zeros where nothing was stocked", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const empty = await stockOf(shop.owner.accessToken, p.id);
    expect(empty).toMatchObject({
      productId: p.id,
      shopId: shop.id,
      sku: p.sku,
      totals: { onHand: 0, reserved: 0, available: 0 },
      sequence: 0,
    });
    expect(empty.locations.map((l) => [l.code, l.onHand])).toEqual([
      ["WH", 0],
      ["BR1", 0],
    ]);

    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 12, 3);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 4);
    const reserved = await stub(p.id).reserve({
      productId: p.id,
      locationId: shop.warehouseId,
      quantity: 5,
      ttlMs: 60_000,
      key: `cart-${uuidv7()}`,
    });
    expect(reserved.ok).toBe(true);

    // Staff may read stock (they file requests from what they see).
    const stock = await stockOf(shop.staff.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId)).toMatchObject({
      code: "WH",
      onHand: 12,
      reserved: 5,
      available: 7,
      threshold: 3,
      low: false,
    });
    expect(levelAt(stock, shop.branchId)).toMatchObject({ onHand: 4, available: 4 });
    expect(stock.totals).toEqual({ onHand: 16, reserved: 5, available: 11 });
  });
});

describe("POST /v1/seller/products/{id}/stock/adjustments", () => {
  it("applies a delta and a set, each one movement with a gapless sequence, audited once by the mirror", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.manager.accessToken;
    const set = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "set",
      quantity: 20,
      reason: "first count",
    });
    expect(set.status).toBe(201);
    expect(set.body).toMatchObject({
      replayed: false,
      thresholdMovement: null,
      movement: {
        sequence: 1,
        kind: "set",
        deltaOnHand: 20,
        onHandAfter: 20,
        availableAfter: 20,
        reason: "first count",
        productId: p.id,
        locationId: shop.warehouseId,
      },
    });
    const delta = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -7,
      reason: "damaged in storage",
    });
    expect(delta.status).toBe(201);
    expect(delta.body.movement).toMatchObject({
      sequence: 2,
      kind: "adjust",
      deltaOnHand: -7,
      onHandAfter: 13,
    });

    await flush(p.id);
    const mirror = await mirrorOf(p.id);
    expect(mirror.map((m) => [m.sequence, m.kind, m.deltaOnHand, m.actorId])).toEqual([
      [1, "set", 20, shop.manager.id],
      [2, "adjust", -7, shop.manager.id],
    ]);
    const audits = await auditRows(
      mirror.map((m) => m.id),
      { entityType: "stock_movement" },
    );
    expect(audits.map((a) => a.action).sort()).toEqual(["stock.adjusted", "stock.set"]);
  });

  it("replays the same Idempotency-Key instead of applying twice, and refuses it for another body", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 10);
    const body = { locationId: shop.warehouseId, mode: "delta", quantity: 5, reason: "delivery" };
    const key = `delivery-${uuidv7()}`;
    const first = await adjust(t, p.id, body, key);
    const again = await adjust(t, p.id, body, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.replayed).toBe(true);
    expect(again.body.movement.id).toBe(first.body.movement.id);
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(15);

    const other = await adjust(t, p.id, { ...body, quantity: 6 }, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Keys belong to their user: the manager's identical key is a new change.
    const byManager = await adjust(shop.manager.accessToken, p.id, body, key);
    expect(byManager.body.replayed).toBe(false);
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(20);
  });

  it("refuses to take on hand below what buyers reserved: 409 INSUFFICIENT_STOCK, nothing changes", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 5);
    await stub(p.id).reserve({
      productId: p.id,
      locationId: shop.warehouseId,
      quantity: 3,
      ttlMs: 60_000,
      key: `cart-${uuidv7()}`,
    });
    for (const body of [
      { mode: "delta", quantity: -3 },
      { mode: "set", quantity: 2, threshold: 1 },
    ]) {
      const res = await adjust(t, p.id, { locationId: shop.warehouseId, reason: "count", ...body });
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body).toMatchObject({
        code: "INSUFFICIENT_STOCK",
        locationId: shop.warehouseId,
        available: 2,
      });
    }
    const after = levelAt(await stockOf(t, p.id), shop.warehouseId);
    expect(after).toMatchObject({ onHand: 5, reserved: 3, threshold: null });
    expect(
      (
        await adjust(t, p.id, {
          locationId: shop.warehouseId,
          mode: "set",
          quantity: 3,
          reason: "count",
        })
      ).status,
    ).toBe(201);
  });

  it("sets and removes the threshold with the adjustment", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    const res = await setStock(t, p.id, shop.branchId, 8, 2);
    expect(res.thresholdMovement).toMatchObject({ kind: "threshold", threshold: 2, low: false });
    expect(levelAt(await stockOf(t, p.id), shop.branchId)).toMatchObject({ threshold: 2 });
    const removed = await setStock(t, p.id, shop.branchId, 8, null);
    expect(removed.thresholdMovement).toMatchObject({ kind: "threshold", threshold: null });
    const unchanged = await setStock(t, p.id, shop.branchId, 8, null);
    expect(unchanged.thresholdMovement).toBeNull();
  });

  it("names each bad field with 422", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    const other = await seedShop();
    const ok = { locationId: shop.warehouseId, mode: "delta", quantity: 1, reason: "x" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...ok, locationId: "nope" }, "locationId"],
      [{ ...ok, mode: "add" }, "mode"],
      [{ ...ok, quantity: 1.5 }, "quantity"],
      [{ ...ok, quantity: 0 }, "quantity"],
      [{ ...ok, mode: "set", quantity: -1 }, "quantity"],
      [{ ...ok, quantity: 3_000_000_000 }, "quantity"],
      [{ ...ok, reason: "  " }, "reason"],
      [{ ...ok, reason: undefined }, "reason"],
      [{ ...ok, threshold: -1 }, "threshold"],
      // A location of another shop, or none at all, is named like a malformed one.
      [{ ...ok, locationId: other.warehouseId }, "locationId"],
      [{ ...ok, locationId: uuidv7() }, "locationId"],
    ];
    for (const [body, field] of cases) {
      const res = await adjust(t, p.id, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      expect(
        res.body.errors?.map((e) => e.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const badKey = await adjust(t, p.id, ok, "x".repeat(256));
    expect(badKey.status).toBe(422);
    expect(badKey.body.errors?.[0]).toMatchObject({ field: "idempotency-key", in: "header" });
    const badId = await api<Problem>("GET", "/v1/seller/products/123/stock", { token: t });
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
    expect((await stockOf(t, p.id)).sequence).toBe(0);
  });
});

describe("stock permissions", () => {
  it("lets staff read but never adjust (403), and hides the product from everyone else (404)", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const stranger = await registerUser("seller");
    const otherShop = await stockShop();
    const body = { locationId: shop.warehouseId, mode: "delta", quantity: 1, reason: "x" };

    const staff = await adjust(shop.staff.accessToken, p.id, body);
    expect(staff.status).toBe(403);
    expect(staff.body.code).toBe("FORBIDDEN");
    for (const token of [stranger.accessToken, otherShop.owner.accessToken]) {
      const write = await adjust(token, p.id, body);
      expect(write.status).toBe(404);
      expect(write.body.code).toBe("NOT_FOUND");
      const read = await api<Problem>("GET", `/v1/seller/products/${p.id}/stock`, { token });
      expect(read.status).toBe(404);
    }
    expect(
      (await api("GET", `/v1/seller/products/${uuidv7()}/stock`, { token: shop.owner.accessToken }))
        .status,
    ).toBe(404);
    expect((await stockOf(shop.owner.accessToken, p.id)).sequence).toBe(0);
  });
});

describe("public availability", () => {
  it("shows the summed available quantity and its status on the product detail", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    const detail = () =>
      api<{ availability: { status: string; quantity: number | null } }>(
        "GET",
        `/v1/products/${p.id}`,
      );
    expect((await detail()).body.availability).toEqual({ status: "out_of_stock", quantity: 0 });
    await setStock(t, p.id, shop.warehouseId, 6, 2);
    await setStock(t, p.id, shop.branchId, 3);
    expect((await detail()).body.availability).toEqual({ status: "in_stock", quantity: 9 });
    await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -4,
      reason: "x",
    });
    // Warehouse at 2 with threshold 2: low.
    expect((await detail()).body.availability).toEqual({ status: "low_stock", quantity: 5 });
  });
});

describe("inventory in the OpenAPI document", () => {
  it("documents every inventory route, its Idempotency-Key and the CSV body", async () => {
    const res = await api<{
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ name: string; in: string }>;
            requestBody?: { content: Record<string, unknown> };
          }
        >
      >;
    }>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        "/v1/seller/products/{id}/stock",
        "/v1/seller/products/{id}/stock/adjustments",
        "/v1/seller/stock/bulk",
        "/v1/seller/stock/movements",
        "/v1/seller/stock/movements/{id}/undo",
        "/v1/seller/stock/alerts",
        "/v1/seller/stock-requests",
        "/v1/seller/stock-requests/{id}/approve",
        "/v1/seller/stock-requests/{id}/reject",
        "/v1/seller/stock-requests/review",
        "/v1/seller/inventory/import",
      ]),
    );
    const adjustParams = paths["/v1/seller/products/{id}/stock/adjustments"]?.post?.parameters;
    expect(adjustParams?.map((p) => [p.name, p.in])).toContainEqual(["idempotency-key", "header"]);
    const csv = paths["/v1/seller/inventory/import"]?.post?.requestBody?.content;
    expect(Object.keys(csv ?? {})).toEqual(["text/csv"]);
  });
});
