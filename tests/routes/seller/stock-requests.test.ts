import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditActions } from "../../helpers/audit.ts";
import { eventually } from "../../helpers/eventually.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import {
  flush,
  levelAt,
  mirrorOf,
  product,
  type StockMovement,
  type StockShop,
  setStock,
  stockOf,
  stockShop,
} from "../../helpers/seller-stock.ts";
import type { TestUser } from "../../helpers/users.ts";
import { registerUser } from "../../helpers/users.ts";

interface StockRequest {
  id: string;
  shopId: string;
  productId: string;
  locationId: string;
  delta: number;
  status: "pending" | "approved" | "rejected";
  requestedBy: string;
  reviewedBy: string | null;
  reviewNote: string | null;
  movementId: string | null;
  movementSequence: number | null;
}

// A problem body carries its HTTP status as `status`, which a request's own `status` would clash with.
type Res<T> = ApiResponse<T & Omit<Problem, "status">>;

function file(who: TestUser, body: Record<string, unknown>): Promise<Res<StockRequest>> {
  return api("POST", "/v1/seller/stock-requests", { token: who.accessToken, body });
}

function decide(
  who: TestUser,
  id: string,
  decision: "approve" | "reject",
  body?: unknown,
): Promise<Res<{ request: StockRequest; movement: StockMovement } & StockRequest>> {
  return api("POST", `/v1/seller/stock-requests/${id}/${decision}`, {
    token: who.accessToken,
    ...(body === undefined ? {} : { body }),
  });
}

/** A staff request for `delta` at the warehouse, expected to be filed. */
async function requested(shop: StockShop, productId: string, delta: number): Promise<StockRequest> {
  const res = await file(shop.staff, {
    productId,
    locationId: shop.warehouseId,
    delta,
    reason: "shelf count differs",
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const onHand = async (shop: StockShop, productId: string) =>
  levelAt(await stockOf(shop.owner.accessToken, productId), shop.warehouseId).onHand;

describe("stock requests", () => {
  it("lets staff file a request (not adjust), and a manager approve it: applied, linked, audited, told", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 10);
    const direct = await api<Problem>("POST", `/v1/seller/products/${p.id}/stock/adjustments`, {
      token: shop.staff.accessToken,
      body: { locationId: shop.warehouseId, mode: "delta", quantity: -2, reason: "x" },
    });
    expect(direct.status).toBe(403);

    const r = await requested(shop, p.id, -2);
    expect(r).toMatchObject({ status: "pending", delta: -2, requestedBy: shop.staff.id });
    expect(await onHand(shop, p.id)).toBe(10);
    // Staff cannot decide requests either, their own included.
    expect((await decide(shop.staff, r.id, "approve")).status).toBe(403);

    const approved = await decide(shop.manager, r.id, "approve", { note: "checked" });
    expect(approved.status).toBe(200);
    expect(approved.body.request).toMatchObject({
      status: "approved",
      reviewedBy: shop.manager.id,
      reviewNote: "checked",
      movementId: approved.body.movement.id,
    });
    expect(approved.body.movement).toMatchObject({
      kind: "adjust",
      deltaOnHand: -2,
      onHandAfter: 8,
    });
    expect(await onHand(shop, p.id)).toBe(8);
    expect(await auditActions(r.id, { entityType: "stock_request" })).toEqual([
      "stock_request.created",
      "stock_request.approved",
    ]);

    const inbox = await eventually(async () => {
      const res = await api<{ items: Array<{ kind: string }> }>("GET", "/v1/notifications", {
        token: shop.staff.accessToken,
      });
      const kinds = res.body.items.map((i) => i.kind);
      return kinds.includes("stock.request.approved") ? kinds : undefined;
    });
    expect(inbox).toContain("stock.request.approved");
    const managerInbox = await eventually(async () => {
      const res = await api<{ items: Array<{ kind: string }> }>("GET", "/v1/notifications", {
        token: shop.manager.accessToken,
      });
      const kinds = res.body.items.map((i) => i.kind);
      return kinds.includes("stock.request.created") ? kinds : undefined;
    });
    expect(managerInbox).toContain("stock.request.created");
  });

  it("applies an approval exactly once when approvals race", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 10);
    const r = await requested(shop, p.id, 5);
    const results = await Promise.all([
      decide(shop.manager, r.id, "approve"),
      decide(shop.owner, r.id, "approve"),
      decide(shop.manager, r.id, "approve"),
      decide(shop.owner, r.id, "approve"),
    ]);
    expect(results.map((x) => x.status).sort()).toEqual([200, 409, 409, 409]);
    for (const loser of results.filter((x) => x.status === 409)) {
      expect(loser.body).toMatchObject({
        code: "CONFLICT",
        status: 409,
        requestStatus: "approved",
      });
    }
    expect(await onHand(shop, p.id)).toBe(15);
    await flush(p.id);
    expect((await mirrorOf(p.id)).filter((m) => m.kind === "adjust")).toHaveLength(1);
    expect(await auditActions(r.id, { entityType: "stock_request" })).toEqual([
      "stock_request.created",
      "stock_request.approved",
    ]);
  });

  it("rejects without touching stock; a decided request cannot be decided again", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 4);
    const r = await requested(shop, p.id, 3);
    const rejected = await decide(shop.owner, r.id, "reject", { note: "no delivery came" });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: "rejected", movementId: null });
    expect(await onHand(shop, p.id)).toBe(4);
    expect((await decide(shop.owner, r.id, "approve")).status).toBe(409);
    expect((await decide(shop.owner, r.id, "reject")).status).toBe(409);
    expect(await onHand(shop, p.id)).toBe(4);
    expect(await auditActions(r.id, { entityType: "stock_request" })).toEqual([
      "stock_request.created",
      "stock_request.rejected",
    ]);
  });

  it("keeps a request pending when the stock cannot take it (409), and approves it later", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 3);
    const r = await requested(shop, p.id, -5);
    const refused = await decide(shop.manager, r.id, "approve");
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "INSUFFICIENT_STOCK", available: 3, requested: 5 });
    const list = await api<{ items: StockRequest[] }>(
      "GET",
      `/v1/seller/stock-requests?shopId=${shop.id}&status=pending`,
      { token: shop.staff.accessToken },
    );
    expect(list.body.items.map((x) => x.id)).toEqual([r.id]);
    expect(await auditActions(r.id, { entityType: "stock_request" })).toEqual([
      "stock_request.created",
    ]);

    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 6);
    const later = await decide(shop.manager, r.id, "approve");
    expect(later.status).toBe(200);
    expect(await onHand(shop, p.id)).toBe(1);
  });

  it("reviews many at once, each on its own", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 5);
    const plus = await requested(shop, p.id, 2);
    const tooMuch = await requested(shop, p.id, -50);
    const drop = await requested(shop, p.id, -1);
    const unknown = uuidv7();
    const res = await api<{
      results: Array<{
        id: string;
        decision: string;
        ok: boolean;
        code?: string;
        request?: StockRequest;
      }>;
    }>("POST", "/v1/seller/stock-requests/review", {
      token: shop.manager.accessToken,
      body: { approve: [plus.id, tooMuch.id, unknown], reject: [drop.id], note: "weekly review" },
    });
    expect(res.status).toBe(200);
    expect(
      res.body.results.map((r) => [r.id, r.decision, r.ok, r.code ?? r.request?.status]),
    ).toEqual([
      [plus.id, "approve", true, "approved"],
      [tooMuch.id, "approve", false, "INSUFFICIENT_STOCK"],
      [unknown, "approve", false, "NOT_FOUND"],
      [drop.id, "reject", true, "rejected"],
    ]);
    expect(await onHand(shop, p.id)).toBe(7);

    const byStatus = async (status: string) =>
      (
        await api<{ items: StockRequest[] }>(
          "GET",
          `/v1/seller/stock-requests?shopId=${shop.id}&status=${status}`,
          { token: shop.owner.accessToken },
        )
      ).body.items.map((x) => x.id);
    expect(await byStatus("pending")).toEqual([tooMuch.id]);
    expect(await byStatus("approved")).toEqual([plus.id]);
    expect(await byStatus("rejected")).toEqual([drop.id]);

    const bad = await api<Problem>("POST", "/v1/seller/stock-requests/review", {
      token: shop.manager.accessToken,
      body: { approve: [plus.id], reject: [plus.id] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.[0]?.field).toBe("reject");
    const none = await api<Problem>("POST", "/v1/seller/stock-requests/review", {
      token: shop.manager.accessToken,
      body: {},
    });
    expect(none.status).toBe(422);
    expect(none.body.errors?.[0]?.field).toBe("approve");
  });

  it("hides requests from other shops' members and names bad fields", async () => {
    const shop = await stockShop();
    const other = await stockShop();
    const p = await product(shop);
    const r = await requested(shop, p.id, 1);
    const stranger = await registerUser("seller");
    expect(
      (
        await file(stranger, {
          productId: p.id,
          locationId: shop.warehouseId,
          delta: 1,
          reason: "x",
        })
      ).status,
    ).toBe(404);
    expect((await decide(other.owner, r.id, "approve")).status).toBe(404);
    expect((await decide(other.owner, r.id, "reject")).status).toBe(404);
    expect(
      (
        await api("GET", `/v1/seller/stock-requests?shopId=${shop.id}`, {
          token: other.owner.accessToken,
        })
      ).status,
    ).toBe(404);

    const ok = { productId: p.id, locationId: shop.warehouseId, delta: 1, reason: "x" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...ok, delta: 0 }, "delta"],
      [{ ...ok, delta: 1.5 }, "delta"],
      [{ ...ok, reason: "" }, "reason"],
      [{ ...ok, productId: "p" }, "productId"],
      [{ ...ok, locationId: other.warehouseId }, "locationId"],
    ];
    for (const [body, field] of cases) {
      const res = await file(shop.staff, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors?.map((e) => e.field)).toContain(field);
    }
    const badNote = await decide(shop.owner, r.id, "reject", { note: "x".repeat(1001) });
    expect(badNote.status).toBe(422);
    expect(badNote.body.errors?.[0]?.field).toBe("note");
    const badQuery = await api<Problem>(
      "GET",
      `/v1/seller/stock-requests?shopId=${shop.id}&status=open`,
      { token: shop.owner.accessToken },
    );
    expect(badQuery.status).toBe(422);
    expect(badQuery.body.errors?.[0]).toMatchObject({ field: "status", in: "query" });
  });
});
