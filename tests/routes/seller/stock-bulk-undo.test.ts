import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import {
  adjust,
  levelAt,
  product,
  type StockMovement,
  type StockShop,
  setStock,
  stockOf,
  stockShop,
} from "../../helpers/seller-stock.ts";

interface BulkResult {
  operationId: string;
  lines: number;
  movements: StockMovement[];
}

type BulkResponse = ApiResponse<
  BulkResult & Problem & { lines: Array<{ productId: string; locationId: string }> | number }
>;

const post = (path: string, token: string, body?: unknown, key?: string): Promise<BulkResponse> =>
  api("POST", path, {
    token,
    ...(body === undefined ? {} : { body }),
    ...(key ? { headers: { "idempotency-key": key } } : {}),
  });

const undoBulk = (token: string, operationId: string, key?: string) =>
  post(`/v1/seller/stock/bulk/${operationId}/undo`, token, undefined, key);

/** Two products stocked at the warehouse (10 and 2), changed by one committed bulk operation. */
async function bulkEdited(shop: StockShop, items: (a: string, b: string) => unknown[]) {
  const t = shop.owner.accessToken;
  const [a, b] = await Promise.all([product(shop), product(shop)]);
  if (!a || !b) throw new Error("products not created");
  await setStock(t, a.id, shop.warehouseId, 10);
  await setStock(t, b.id, shop.warehouseId, 2);
  const res = await post("/v1/seller/stock/bulk", t, {
    reason: "recount",
    items: items(a.id, b.id),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { a, b, operationId: res.body.operationId };
}

async function onHand(shop: StockShop, productId: string, locationId: string): Promise<number> {
  return levelAt(await stockOf(shop.owner.accessToken, productId), locationId).onHand;
}

describe("POST /v1/seller/stock/bulk/{operationId}/undo", () => {
  it("restores every line of the operation as one new bulk operation, audited", async () => {
    const shop = await stockShop();
    const { a, b, operationId } = await bulkEdited(shop, (a, b) => [
      { productId: a, locationId: shop.warehouseId, mode: "delta", quantity: -4 },
      { productId: b, locationId: shop.warehouseId, mode: "set", quantity: 7 },
      { productId: b, locationId: shop.branchId, mode: "delta", quantity: 3 },
    ]);
    const undone = await undoBulk(shop.manager.accessToken, operationId);
    expect(undone.status, JSON.stringify(undone.body)).toBe(200);
    expect(undone.body.operationId).not.toBe(operationId);
    expect(undone.body.lines).toBe(3);
    expect(await onHand(shop, a.id, shop.warehouseId)).toBe(10);
    expect(await onHand(shop, b.id, shop.warehouseId)).toBe(2);
    expect(await onHand(shop, b.id, shop.branchId)).toBe(0);
    const audits = await auditRows(operationId, { entityType: "bulk_operation" });
    expect(audits.map((r) => [r.action, r.newValue])).toEqual([
      ["stock.bulk_undone", { undoneBy: undone.body.operationId, lines: 3 }],
    ]);
  });

  it("undoes nothing and answers 409 naming the line when one can no longer be reversed", async () => {
    const shop = await stockShop();
    const t = shop.owner.accessToken;
    const { a, b, operationId } = await bulkEdited(shop, (a, b) => [
      { productId: a, locationId: shop.warehouseId, mode: "delta", quantity: 5 },
      { productId: b, locationId: shop.warehouseId, mode: "delta", quantity: -1 },
    ]);
    // 12 of A's 15 are sold: taking back the 5 the operation added is no longer possible.
    const sold = await adjust(t, a.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -12,
      reason: "sold",
    });
    expect(sold.status).toBe(201);
    const refused = await undoBulk(t, operationId);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("INSUFFICIENT_STOCK");
    expect(refused.body.lines).toEqual([
      expect.objectContaining({ productId: a.id, locationId: shop.warehouseId }),
    ]);
    expect(await onHand(shop, a.id, shop.warehouseId)).toBe(3);
    expect(await onHand(shop, b.id, shop.warehouseId)).toBe(1);

    // Once the stock allows it again, the operation can still be undone.
    await setStock(t, a.id, shop.warehouseId, 8);
    const retried = await undoBulk(t, operationId);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(await onHand(shop, a.id, shop.warehouseId)).toBe(3);
    expect(await onHand(shop, b.id, shop.warehouseId)).toBe(2);
  });

  it("answers a second undo with 409 ALREADY_UNDONE, or replays it for the same Idempotency-Key", async () => {
    const shop = await stockShop();
    const t = shop.manager.accessToken;
    const { a, operationId } = await bulkEdited(shop, (a) => [
      { productId: a, locationId: shop.warehouseId, mode: "delta", quantity: -3 },
    ]);
    const key = uuidv7();
    const first = await undoBulk(t, operationId, key);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const replay = await undoBulk(t, operationId, key);
    expect(replay.status).toBe(200);
    expect(replay.body.operationId).toBe(first.body.operationId);
    for (const again of [
      await undoBulk(t, operationId),
      await undoBulk(t, operationId, uuidv7()),
    ]) {
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({
        code: "CONFLICT",
        reason: "ALREADY_UNDONE",
        undoneBy: first.body.operationId,
      });
    }
    expect(await onHand(shop, a.id, shop.warehouseId)).toBe(10);
  });

  it("refuses staff with 403 and hides the operation from other shops with 404", async () => {
    const shop = await stockShop();
    const other = await stockShop();
    const { operationId } = await bulkEdited(shop, (a) => [
      { productId: a, locationId: shop.warehouseId, mode: "delta", quantity: 1 },
    ]);
    expect((await undoBulk(shop.staff.accessToken, operationId)).status).toBe(403);
    expect((await undoBulk(other.owner.accessToken, operationId)).status).toBe(404);
    expect((await undoBulk(shop.owner.accessToken, uuidv7())).status).toBe(404);
  });
});
