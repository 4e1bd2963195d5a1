import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Actor } from "../../../src/db/audit.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import {
  commitReservations,
  releaseReservations,
  reservationKey,
  reserveLines,
} from "../../../src/services/orders/reservations.ts";
import { backdateReservation, level, newProduct, stockUp } from "../../helpers/stock.ts";

const actor: Actor = { type: "system", id: null, requestId: "reservations-test" };
const stock = env.PRODUCT_STOCK;

async function stocked(onHand: number) {
  const { productId, stub } = newProduct();
  const shopId = uuidv7();
  const locationId = uuidv7();
  await stockUp(stub, productId, locationId, onHand);
  return { productId, shopId, locationId, stub };
}

describe("order reservations", () => {
  it("holds every line once per holder: a retry returns the same reservations", async () => {
    const [a, b] = await Promise.all([stocked(5), stocked(3)]);
    const holder = uuidv7();
    const input = {
      holder,
      lines: [
        { productId: a.productId, shopId: a.shopId, locationId: a.locationId, quantity: 2 },
        { productId: b.productId, shopId: b.shopId, locationId: b.locationId, quantity: 3 },
      ],
      ttlMs: 60_000,
      actor,
    };
    const first = await reserveLines(stock, input);
    const again = await reserveLines(stock, input);
    if (!first.ok || !again.ok) throw new Error("expected both to hold");
    expect(again.held.map((h) => h.reservationId)).toEqual(first.held.map((h) => h.reservationId));
    expect(again.held.every((h) => h.replayed)).toBe(true);
    expect(await level(a.stub, a.locationId)).toMatchObject({ reserved: 2, available: 3 });
    expect(await level(b.stub, b.locationId)).toMatchObject({ reserved: 3, available: 0 });
    const view = await a.stub.reservation(first.held[0]?.reservationId ?? "");
    expect(view?.key).toBe(reservationKey(holder, a.productId));
  });

  it("takes nothing when one line is short, and reports every short line", async () => {
    const [a, b, c] = await Promise.all([stocked(5), stocked(1), stocked(0)]);
    const result = await reserveLines(stock, {
      holder: uuidv7(),
      lines: [
        { productId: a.productId, shopId: a.shopId, locationId: a.locationId, quantity: 5 },
        { productId: b.productId, shopId: b.shopId, locationId: b.locationId, quantity: 2 },
        { productId: c.productId, shopId: c.shopId, locationId: c.locationId, quantity: 1 },
      ],
      ttlMs: 60_000,
      actor,
    });
    expect(result).toEqual({
      ok: false,
      shortages: [
        { productId: b.productId, locationId: b.locationId, requested: 2, available: 1 },
        { productId: c.productId, locationId: c.locationId, requested: 1, available: 0 },
      ],
    });
    expect(await level(a.stub, a.locationId)).toMatchObject({ reserved: 0, available: 5 });
  });

  it("commits and releases idempotently, reporting refusals per item", async () => {
    const [a, b, c] = await Promise.all([stocked(4), stocked(4), stocked(4)]);
    const held = await reserveLines(stock, {
      holder: uuidv7(),
      lines: [a, b, c].map((x) => ({
        productId: x.productId,
        shopId: x.shopId,
        locationId: x.locationId,
        quantity: 1,
      })),
      ttlMs: 60_000,
      actor,
    });
    if (!held.ok) throw new Error("expected to hold");
    const [ha, hb, hc] = held.held;
    if (!ha || !hb || !hc) throw new Error("three holds expected");
    await backdateReservation(c.stub, hc.reservationId);

    const committed = await commitReservations(
      stock,
      [ha, hc, { productId: b.productId, reservationId: null }],
      actor,
    );
    expect(committed).toEqual([
      expect.objectContaining({
        productId: a.productId,
        ok: true,
        state: "committed",
        replayed: false,
      }),
      expect.objectContaining({
        productId: c.productId,
        ok: false,
        code: "CONFLICT",
        reason: "RESERVATION_EXPIRED",
      }),
    ]);
    expect((await commitReservations(stock, [ha], actor))[0]).toMatchObject({
      ok: true,
      replayed: true,
    });
    expect(await level(a.stub, a.locationId)).toMatchObject({ onHand: 3, reserved: 0 });
    expect(await level(c.stub, c.locationId)).toMatchObject({ onHand: 4, reserved: 0 });

    const released = await releaseReservations(stock, [ha, hb, hb], actor);
    expect(released[0]).toMatchObject({ ok: false, reason: "RESERVATION_COMMITTED" });
    expect(released[1]).toMatchObject({ ok: true, state: "released" });
    expect(released[2]).toMatchObject({ ok: true, state: "released" });
    expect(await level(b.stub, b.locationId)).toMatchObject({
      onHand: 4,
      reserved: 0,
      available: 4,
    });
  });
});
