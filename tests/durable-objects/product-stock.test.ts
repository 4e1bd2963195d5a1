import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ProductStock } from "../../durable-objects/product-stock.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { backdateReservation, level, newProduct, seller, stockUp } from "../helpers/stock.ts";

const TTL = 10 * 60_000;

describe("ProductStock reservations", () => {
  it("lets exactly 50 of 200 concurrent reservations for 50 units through", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 50);

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stub.reserve({ productId, locationId: loc, quantity: 1, ttlMs: TTL, key: `buyer-${i}` }),
      ),
    );

    const won = results.flatMap((r) => (r.ok ? [r.reservationId] : []));
    const refused = results.flatMap((r) => (r.ok ? [] : [r]));
    expect(won).toHaveLength(50);
    expect(new Set(won).size).toBe(50);
    expect(refused).toHaveLength(150);
    for (const r of refused) expect(r).toMatchObject({ code: "INSUFFICIENT_STOCK", available: 0 });
    expect(await level(stub, loc)).toMatchObject({ onHand: 50, reserved: 50, available: 0 });
    // One set, then one reserve movement per winner: refusals wrote nothing.
    expect((await stub.snapshot()).sequence).toBe(51);
  });

  it("returns the same reservation for the same key and never holds twice", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    const input = { productId, locationId: loc, quantity: 4, ttlMs: TTL, key: "cart-1" };

    const [first, second] = await Promise.all([stub.reserve(input), stub.reserve(input)]);
    const third = await stub.reserve(input);

    expect(first.ok && second.ok && third.ok).toBe(true);
    if (!first.ok || !second.ok || !third.ok) return;
    expect(second.reservationId).toBe(first.reservationId);
    expect(third.reservationId).toBe(first.reservationId);
    expect([first.replayed, second.replayed].sort()).toEqual([false, true]);
    expect(await level(stub, loc)).toMatchObject({ onHand: 10, reserved: 4, available: 6 });
  });

  it("refuses a reused key with another quantity", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    await stub.reserve({ productId, locationId: loc, quantity: 1, ttlMs: TTL, key: "k" });
    const again = await stub.reserve({
      productId,
      locationId: loc,
      quantity: 2,
      ttlMs: TTL,
      key: "k",
    });
    expect(again).toMatchObject({ ok: false, code: "IDEMPOTENCY_KEY_REUSED" });
    expect(await level(stub, loc)).toMatchObject({ reserved: 1 });
  });

  it("changes nothing when a reservation cannot be met", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 3);
    const before = await stub.snapshot();
    const r = await stub.reserve({ productId, locationId: loc, quantity: 4, ttlMs: TTL, key: "k" });
    expect(r).toMatchObject({ ok: false, code: "INSUFFICIENT_STOCK", available: 3, requested: 4 });
    const after = await stub.snapshot();
    expect(after.locations).toEqual(before.locations);
    expect(after.sequence).toBe(before.sequence);
    // The key was not spent on the refusal: it can succeed once stock arrives.
    await stockUp(stub, productId, loc, 4);
    const retry = await stub.reserve({
      productId,
      locationId: loc,
      quantity: 4,
      ttlMs: TTL,
      key: "k",
    });
    expect(retry.ok).toBe(true);
  });

  it("commits once: on hand and reserved drop together, a second commit replays", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    const r = await stub.reserve({ productId, locationId: loc, quantity: 3, ttlMs: TTL, key: "k" });
    if (!r.ok) throw new Error("reserve failed");

    const [a, b] = await Promise.all([
      stub.commit({ reservationId: r.reservationId }),
      stub.commit({ reservationId: r.reservationId }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.movement.sequence).toBe(b.movement.sequence);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(await level(stub, loc)).toMatchObject({ onHand: 7, reserved: 0, available: 7 });
    expect(await stub.release({ reservationId: r.reservationId })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "RESERVATION_COMMITTED",
    });
  });

  it("releases once, and refuses to commit a released reservation", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 5);
    const r = await stub.reserve({ productId, locationId: loc, quantity: 5, ttlMs: TTL, key: "k" });
    if (!r.ok) throw new Error("reserve failed");

    const first = await stub.release({ reservationId: r.reservationId });
    const second = await stub.release({ reservationId: r.reservationId });
    expect(first).toMatchObject({ ok: true, state: "released", replayed: false });
    expect(second).toMatchObject({ ok: true, state: "released", replayed: true });
    expect(await level(stub, loc)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    expect(await stub.commit({ reservationId: r.reservationId })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "RESERVATION_RELEASED",
    });
    expect(await stub.commit({ reservationId: uuidv7() })).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
  });

  it("releases expired reservations when the alarm runs", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    const stale = await stub.reserve({
      productId,
      locationId: loc,
      quantity: 4,
      ttlMs: TTL,
      key: "a",
    });
    const live = await stub.reserve({
      productId,
      locationId: loc,
      quantity: 1,
      ttlMs: TTL,
      key: "b",
    });
    if (!stale.ok || !live.ok) throw new Error("reserve failed");
    await backdateReservation(stub, stale.reservationId);

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(await stub.reservation(stale.reservationId)).toMatchObject({ state: "expired" });
    expect(await stub.reservation(live.reservationId)).toMatchObject({ state: "active" });
    expect(await level(stub, loc)).toMatchObject({ onHand: 10, reserved: 1, available: 9 });
    expect(await stub.commit({ reservationId: stale.reservationId })).toMatchObject({
      ok: false,
      reason: "RESERVATION_EXPIRED",
    });
    expect(await stub.release({ reservationId: stale.reservationId })).toMatchObject({
      ok: true,
      state: "expired",
      replayed: true,
    });
  });

  it("refuses to commit a reservation past its expiry even before the alarm runs", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 2);
    const r = await stub.reserve({ productId, locationId: loc, quantity: 2, ttlMs: TTL, key: "k" });
    if (!r.ok) throw new Error("reserve failed");
    await backdateReservation(stub, r.reservationId);
    expect(await stub.commit({ reservationId: r.reservationId })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "RESERVATION_EXPIRED",
    });
    expect(await level(stub, loc)).toMatchObject({ onHand: 2, reserved: 0 });
  });
  it("keeps reservations and idempotency across an eviction: nothing lives only in memory", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 3);
    const r = await stub.reserve({ productId, locationId: loc, quantity: 2, ttlMs: TTL, key: "k" });
    if (!r.ok) throw new Error("reserve failed");
    await evictDurableObject(stub);
    const again = await stub.reserve({
      productId,
      locationId: loc,
      quantity: 2,
      ttlMs: TTL,
      key: "k",
    });
    expect(again).toMatchObject({ ok: true, reservationId: r.reservationId, replayed: true });
    expect(await stub.commit({ reservationId: r.reservationId })).toMatchObject({ ok: true });
    expect(await level(stub, loc)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
  });
});

describe("ProductStock adjustments and undo", () => {
  it("adjusts by delta and by count, each a sequenced movement", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    const actor = seller();
    const base = { productId, locationId: loc, reason: "delivery", actor };
    const a = await stub.adjust({ ...base, mode: "delta", quantity: 12, key: "a" });
    const b = await stub.adjust({ ...base, mode: "set", quantity: 5, key: "b" });
    expect(a).toMatchObject({
      ok: true,
      movement: { sequence: 1, kind: "adjust", deltaOnHand: 12 },
    });
    expect(b).toMatchObject({
      ok: true,
      movement: { sequence: 2, kind: "set", deltaOnHand: -7, onHandAfter: 5, actor },
    });
  });

  it("replays an adjustment for the same key and refuses the key for another change", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    const base = { productId, locationId: loc, reason: "r", actor: seller(), key: "k" };
    const first = await stub.adjust({ ...base, mode: "delta", quantity: 3 });
    const again = await stub.adjust({ ...base, mode: "delta", quantity: 3 });
    const other = await stub.adjust({ ...base, mode: "delta", quantity: 4 });
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    expect(again).toMatchObject({
      replayed: true,
      movement: { sequence: first.movement.sequence },
    });
    expect(other).toMatchObject({ ok: false, code: "IDEMPOTENCY_KEY_REUSED" });
    expect(await level(stub, loc)).toMatchObject({ onHand: 3 });
  });

  it("refuses to take on hand below what is reserved", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    await stub.reserve({ productId, locationId: loc, quantity: 8, ttlMs: TTL, key: "r" });
    const base = { productId, locationId: loc, reason: "damaged", actor: seller() };
    expect(await stub.adjust({ ...base, mode: "delta", quantity: -3, key: "a" })).toMatchObject({
      ok: false,
      code: "INSUFFICIENT_STOCK",
      available: 2,
      requested: 3,
    });
    expect(await stub.adjust({ ...base, mode: "set", quantity: 7, key: "b" })).toMatchObject({
      ok: false,
      code: "INSUFFICIENT_STOCK",
    });
    expect(await stub.adjust({ ...base, mode: "delta", quantity: -2, key: "c" })).toMatchObject({
      ok: true,
    });
    expect(await level(stub, loc)).toMatchObject({ onHand: 8, reserved: 8, available: 0 });
  });

  it("undoes an adjustment once, with a compensating movement", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    const adj = await stub.adjust({
      productId,
      locationId: loc,
      mode: "delta",
      quantity: -4,
      reason: "theft",
      actor: seller(),
      key: "a",
    });
    if (!adj.ok) throw new Error("adjust failed");
    const seq = adj.movement.sequence;

    const undo = await stub.undo({ productId, sequence: seq, actor: seller(), key: "u1" });
    expect(undo).toMatchObject({
      ok: true,
      movement: { kind: "undo", deltaOnHand: 4, onHandAfter: 10, undoesSequence: seq },
    });
    const replay = await stub.undo({ productId, sequence: seq, actor: seller(), key: "u1" });
    expect(replay).toMatchObject({ ok: true, replayed: true });
    const twice = await stub.undo({ productId, sequence: seq, actor: seller(), key: "u2" });
    expect(twice).toMatchObject({ ok: false, code: "CONFLICT", reason: "ALREADY_UNDONE" });
    expect(await level(stub, loc)).toMatchObject({ onHand: 10 });
    const history = await stub.movements();
    expect(history.find((m) => m.sequence === seq)?.undoneBySequence).toBe(
      undo.ok ? undo.movement.sequence : -1,
    );
  });

  it("undoes by movement id too", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    const adj = await stub.adjust({
      productId,
      locationId: loc,
      mode: "delta",
      quantity: 6,
      reason: "delivery",
      actor: seller(),
      key: "a",
    });
    if (!adj.ok) throw new Error("adjust failed");
    const undo = await stub.undo({
      productId,
      movementId: adj.movement.id,
      actor: seller(),
      key: "u",
    });
    expect(undo).toMatchObject({ ok: true, movement: { undoesSequence: adj.movement.sequence } });
    expect(await level(stub, loc)).toMatchObject({ onHand: 0 });
  });

  it("refuses an undo that would make available negative", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    const add = await stub.adjust({
      productId,
      locationId: loc,
      mode: "delta",
      quantity: 5,
      reason: "delivery",
      actor: seller(),
      key: "a",
    });
    if (!add.ok) throw new Error("adjust failed");
    await stub.reserve({ productId, locationId: loc, quantity: 3, ttlMs: TTL, key: "r" });
    const undo = await stub.undo({
      productId,
      sequence: add.movement.sequence,
      actor: seller(),
      key: "u",
    });
    expect(undo).toMatchObject({
      ok: false,
      code: "INSUFFICIENT_STOCK",
      available: 2,
      requested: 5,
    });
    expect(await level(stub, loc)).toMatchObject({ onHand: 5, reserved: 3 });
  });

  it("refuses to undo reservation movements and undos", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 5); // 1
    await stub.reserve({ productId, locationId: loc, quantity: 1, ttlMs: TTL, key: "r" }); // 2
    const base = { productId, locationId: loc, reason: "found", actor: seller() };
    await stub.adjust({ ...base, mode: "delta", quantity: 2, key: "a" }); // 3
    const undoReserve = await stub.undo({ productId, sequence: 2, actor: seller(), key: "u1" });
    expect(undoReserve).toMatchObject({ ok: false, code: "CONFLICT", reason: "NOT_UNDOABLE" });
    const undo = await stub.undo({ productId, sequence: 3, actor: seller(), key: "u2" }); // 4
    expect(undo).toMatchObject({ ok: true, movement: { sequence: 4 } });
    const undoUndo = await stub.undo({ productId, sequence: 4, actor: seller(), key: "u3" });
    expect(undoUndo).toMatchObject({ ok: false, reason: "NOT_UNDOABLE" });
    expect(await stub.undo({ productId, sequence: 99, actor: seller(), key: "u4" })).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    expect(await level(stub, loc)).toMatchObject({ onHand: 5, reserved: 1 });
  });
});

describe("ProductStock low-stock threshold", () => {
  it("raises an alert when available crosses the threshold downward and clears it above", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 10);
    const actor = seller();
    const set = await stub.setThreshold({ productId, locationId: loc, threshold: 3, actor });
    expect(set).toMatchObject({
      ok: true,
      low: false,
      movement: { kind: "threshold", alert: null },
    });
    expect(
      await stub.setThreshold({ productId, locationId: loc, threshold: 3, actor }),
    ).toMatchObject({ movement: null, replayed: true });

    const base = { productId, locationId: loc, reason: "sale", actor, mode: "delta" as const };
    const down = await stub.adjust({ ...base, quantity: -6, key: "a" });
    expect(down).toMatchObject({ ok: true, movement: { alert: null, low: false } });
    // A reservation takes available to 3: that is the crossing, not a later movement.
    await stub.reserve({ productId, locationId: loc, quantity: 1, ttlMs: TTL, key: "r" });
    const history = await stub.movements();
    expect(history.at(-1)).toMatchObject({ kind: "reserve", low: true, alert: "raised" });
    const lower = await stub.adjust({ ...base, quantity: -1, key: "b" });
    expect(lower).toMatchObject({ ok: true, movement: { low: true, alert: null } });
    expect(await level(stub, loc)).toMatchObject({ available: 2, threshold: 3, low: true });

    const up = await stub.adjust({ ...base, quantity: 2, key: "c" });
    expect(up).toMatchObject({ ok: true, movement: { low: false, alert: "cleared" } });
    expect(await level(stub, loc)).toMatchObject({ available: 4, threshold: 3, low: false });

    const raised = await stub.setThreshold({ productId, locationId: loc, threshold: 9, actor });
    expect(raised).toMatchObject({ low: true, movement: { alert: "raised" } });
    const cleared = await stub.setThreshold({ productId, locationId: loc, threshold: null, actor });
    expect(cleared).toMatchObject({ low: false, movement: { alert: "cleared", threshold: null } });
  });
});

// Thrown errors are asserted inside the object: through a stub, @cloudflare/vitest-plugin leaks
// one unhandled rejection per rejecting RPC even when the test handles it (workers-sdk #14736).
describe("ProductStock identity and input", () => {
  it("refuses a call meant for another product", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await stockUp(stub, productId, loc, 1);
    await runInDurableObject(stub, async (instance: ProductStock) => {
      await expect(
        instance.reserve({
          productId: uuidv7(),
          locationId: loc,
          quantity: 1,
          ttlMs: TTL,
          key: "k",
        }),
      ).rejects.toThrow(/^PRODUCT_MISMATCH/);
    });
    expect((await stub.snapshot()).productId).toBe(productId);
    expect((await stub.snapshot()).sequence).toBe(1);
  });

  it("rejects malformed input with VALIDATION_FAILED naming the field", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await runInDurableObject(stub, async (instance: ProductStock) => {
      await expect(
        instance.reserve({ productId, locationId: loc, quantity: 0, ttlMs: TTL, key: "k" }),
      ).rejects.toThrow(/VALIDATION_FAILED: quantity/);
      await expect(
        instance.reserve({ productId, locationId: loc, quantity: 1, ttlMs: 10, key: "k" }),
      ).rejects.toThrow(/VALIDATION_FAILED: ttlMs/);
      await expect(
        instance.adjust({
          productId,
          locationId: loc,
          mode: "delta",
          quantity: 1.5,
          reason: "x",
          actor: seller(),
          key: "k",
        }),
      ).rejects.toThrow(/VALIDATION_FAILED: quantity/);
      await expect(
        instance.adjust({
          productId,
          locationId: loc,
          mode: "delta",
          quantity: 0,
          reason: "x",
          actor: seller(),
          key: "k",
        }),
      ).rejects.toThrow(/VALIDATION_FAILED: quantity/);
    });
    expect((await stub.snapshot()).sequence).toBe(0);
  });
});
