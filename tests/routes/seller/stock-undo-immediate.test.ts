import { afterEach, describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";
import { aimMirror } from "../../helpers/object-hooks.ts";
import {
  adjust,
  levelAt,
  mirrorOf,
  product,
  setStock,
  stockOf,
  stockShop,
  stub,
} from "../../helpers/seller-stock.ts";

/** Nothing listens here: the object's outbox cannot reach Postgres while it is aimed at it. */
const UNREACHABLE = "postgres://postgres:postgres@127.0.0.1:1/souk";

const held: string[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((id) => aimMirror(stub(id), null)));
});

const undo = (token: string, id: string) =>
  api<{ movement: { kind: string; deltaOnHand: number } }>(
    "POST",
    `/v1/seller/stock/movements/${id}/undo`,
    { token },
  );

describe("POST /v1/seller/stock/movements/{id}/undo right after the change", () => {
  it("undoes a movement its object made before the mirror has it", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.manager.accessToken;
    await setStock(t, p.id, shop.warehouseId, 10);
    // The outbox cannot flush: only the object knows the movement when the undo arrives.
    await aimMirror(stub(p.id), UNREACHABLE);
    held.push(p.id);

    const wrong = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -3,
      reason: "typo",
    });
    expect(wrong.status).toBe(201);
    expect((await mirrorOf(p.id)).map((m) => m.id)).not.toContain(wrong.body.movement.id);

    const undone = await undo(t, wrong.body.movement.id);
    expect(undone.status, JSON.stringify(undone.body)).toBe(201);
    expect(undone.body.movement).toMatchObject({ kind: "undo", deltaOnHand: 3 });
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(10);
  });

  it("never answers 404 when many adjustments are undone at once, as each is made", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 100);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const made = await adjust(t, p.id, {
          locationId: shop.warehouseId,
          mode: "delta",
          quantity: i % 2 === 0 ? 2 : -1,
          reason: `slip ${i}`,
        });
        expect(made.status).toBe(201);
        return (await undo(t, made.body.movement.id)).status;
      }),
    );
    expect(statuses).toEqual(Array(12).fill(201));
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId).onHand).toBe(100);
  });

  it("still answers 404 for a movement no object made, and for another shop's movement", async () => {
    const [mine, theirs] = await Promise.all([stockShop(), stockShop()]);
    const p = await product(theirs);
    await setStock(theirs.owner.accessToken, p.id, theirs.warehouseId, 5);
    const made = await adjust(theirs.owner.accessToken, p.id, {
      locationId: theirs.warehouseId,
      mode: "delta",
      quantity: 1,
      reason: "found",
    });
    expect((await undo(mine.owner.accessToken, made.body.movement.id)).status).toBe(404);
    expect((await undo(mine.owner.accessToken, crypto.randomUUID())).status).toBe(404);
  });
});
