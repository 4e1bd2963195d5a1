import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import {
  adjust,
  flush,
  levelAt,
  product,
  type StockMovement,
  setStock,
  stockOf,
  stockShop,
  stub,
} from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";

interface Page {
  items: StockMovement[];
  nextCursor: string | null;
}

const list = (token: string, qs: string): Promise<ApiResponse<Page & Problem>> =>
  api("GET", `/v1/seller/stock/movements?${qs}`, { token });

const undo = (
  token: string,
  id: string,
  body?: unknown,
): Promise<ApiResponse<{ movement: StockMovement; replayed: boolean } & Problem>> =>
  api("POST", `/v1/seller/stock/movements/${id}/undo`, {
    token,
    ...(body === undefined ? {} : { body }),
  });

describe("GET /v1/seller/stock/movements", () => {
  it("lists the shop's mirrored movements newest first, filtered and paged", async () => {
    const shop = await stockShop();
    const [p, q] = await Promise.all([product(shop), product(shop)]);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 10);
    await setStock(t, q.id, shop.branchId, 3);
    await adjust(t, p.id, {
      locationId: shop.branchId,
      mode: "delta",
      quantity: 2,
      reason: "found",
    });
    await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -1,
      reason: "broken",
    });
    await Promise.all([flush(p.id), flush(q.id)]);

    const all = await list(shop.staff.accessToken, `shopId=${shop.id}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((m) => [m.productId, m.kind, m.deltaOnHand])).toEqual([
      [p.id, "adjust", -1],
      [p.id, "adjust", 2],
      [q.id, "set", 3],
      [p.id, "set", 10],
    ]);
    expect(all.body.items[0]).toMatchObject({ availableAfter: 9, reason: "broken" });

    const byProduct = await list(t, `productId=${q.id}`);
    expect(byProduct.body.items.map((m) => m.productId)).toEqual([q.id]);
    const byLocation = await list(t, `shopId=${shop.id}&locationId=${shop.warehouseId}`);
    expect(byLocation.body.items.map((m) => m.deltaOnHand)).toEqual([-1, 10]);
    const byKind = await list(t, `shopId=${shop.id}&kind=set`);
    expect(byKind.body.items.map((m) => m.productId)).toEqual([q.id, p.id]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await list(t, `shopId=${shop.id}&from=${encodeURIComponent(future)}`)).body.items,
    ).toEqual([]);
    const past = new Date(Date.now() - 60 * 60_000).toISOString();
    expect((await list(t, `shopId=${shop.id}&to=${encodeURIComponent(past)}`)).body.items).toEqual(
      [],
    );

    const first = await list(t, `shopId=${shop.id}&limit=3`);
    expect(first.body.items).toHaveLength(3);
    const rest = await list(t, `shopId=${shop.id}&limit=3&cursor=${first.body.nextCursor}`);
    expect(rest.body.nextCursor).toBeNull();
    expect([...first.body.items, ...rest.body.items].map((m) => m.id)).toEqual(
      all.body.items.map((m) => m.id),
    );
  });

  it("hides other shops' movements and names bad filters", async () => {
    const shop = await stockShop();
    const other = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 1);
    const stranger = await registerUser("seller");
    expect((await list(stranger.accessToken, `shopId=${shop.id}`)).status).toBe(404);
    expect((await list(other.owner.accessToken, `productId=${p.id}`)).status).toBe(404);
    // Naming your own shop does not unlock another shop's product.
    expect(
      (await list(other.owner.accessToken, `shopId=${other.id}&productId=${p.id}`)).status,
    ).toBe(404);
    const t = shop.owner.accessToken;
    const cases: Array<[string, string]> = [
      ["", "shopId"],
      ["shopId=x", "shopId"],
      [`shopId=${shop.id}&kind=sold`, "kind"],
      [`shopId=${shop.id}&from=yesterday`, "from"],
      [`shopId=${shop.id}&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, "to"],
      [`shopId=${shop.id}&limit=0`, "limit"],
      [`shopId=${shop.id}&cursor=zzz`, "cursor"],
    ];
    for (const [qs, field] of cases) {
      const res = await list(t, qs);
      expect(res.status, qs).toBe(422);
      expect(
        res.body.errors?.map((e) => e.field),
        qs,
      ).toContain(field);
      expect(res.body.errors?.[0]?.in).toBe("query");
    }
  });
});

describe("POST /v1/seller/stock/movements/{id}/undo", () => {
  it("compensates a movement once; a second undo is 409 ALREADY_UNDONE", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.manager.accessToken;
    await setStock(t, p.id, shop.warehouseId, 10);
    const wrong = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -4,
      reason: "typo",
    });
    await flush(p.id);

    const undone = await undo(t, wrong.body.movement.id, { reason: "meant −1" });
    expect(undone.status).toBe(201);
    expect(undone.body.movement).toMatchObject({
      kind: "undo",
      deltaOnHand: 4,
      onHandAfter: 10,
      undoesSequence: wrong.body.movement.sequence,
      reason: "meant −1",
    });
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(10);

    const twice = await undo(t, wrong.body.movement.id);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: "CONFLICT", reason: "ALREADY_UNDONE" });
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(10);

    await flush(p.id);
    const listed = await list(t, `productId=${p.id}`);
    expect(listed.body.items.find((m) => m.id === wrong.body.movement.id)?.undoneBySequence).toBe(
      undone.body.movement.sequence,
    );
    expect(
      (await auditRows([undone.body.movement.id], { entityType: "stock_movement" })).map(
        (a) => a.action,
      ),
    ).toEqual(["stock.undone"]);
  });

  it("replays an undo retried with its Idempotency-Key", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    const counted = await setStock(t, p.id, shop.warehouseId, 6);
    await flush(p.id);
    const key = `undo-${uuidv7()}`;
    const call = () =>
      api<{ movement: StockMovement; replayed: boolean }>(
        "POST",
        `/v1/seller/stock/movements/${counted.movement.id}/undo`,
        { token: t, headers: { "idempotency-key": key } },
      );
    const first = await call();
    const again = await call();
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toMatchObject({ replayed: true, movement: { id: first.body.movement.id } });
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(0);
  });

  it("refuses what cannot be undone: reservations, and an undo that would go below reserved", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    const counted = await setStock(t, p.id, shop.warehouseId, 5);
    const held = await stub(p.id).reserve({
      productId: p.id,
      locationId: shop.warehouseId,
      quantity: 2,
      ttlMs: 60_000,
      key: `cart-${uuidv7()}`,
    });
    expect(held.ok).toBe(true);
    await flush(p.id);
    const reserve = (await list(t, `productId=${p.id}&kind=reserve`)).body.items[0];
    if (!reserve) throw new Error("reserve movement not mirrored");
    const notUndoable = await undo(t, reserve.id);
    expect(notUndoable.status).toBe(409);
    expect(notUndoable.body).toMatchObject({ code: "CONFLICT", reason: "NOT_UNDOABLE" });
    const short = await undo(t, counted.movement.id);
    expect(short.status).toBe(409);
    expect(short.body.code).toBe("INSUFFICIENT_STOCK");
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId)).toMatchObject({
      onHand: 5,
      reserved: 2,
    });
  });

  it("answers staff 403, strangers and unknown movements 404, bad input 422", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const counted = await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 5);
    await flush(p.id);
    const other = await stockShop();
    expect((await undo(shop.staff.accessToken, counted.movement.id)).status).toBe(403);
    expect((await undo(other.owner.accessToken, counted.movement.id)).status).toBe(404);
    expect((await undo(shop.owner.accessToken, uuidv7())).status).toBe(404);
    const badId = await undo(shop.owner.accessToken, "nope");
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
    const badReason = await undo(shop.owner.accessToken, counted.movement.id, { reason: "" });
    expect(badReason.status).toBe(422);
    expect(badReason.body.errors?.[0]?.field).toBe("reason");
    expect(levelAt(await stockOf(shop.owner.accessToken, p.id), shop.warehouseId).onHand).toBe(5);
  });
});
