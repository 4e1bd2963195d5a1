import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/lib/ids.ts";
import {
  backdatePrepared,
  level,
  newProduct,
  type StockStub,
  seller,
  stockUp,
} from "../helpers/stock.ts";

const TTL = 30_000;

interface Part {
  productId: string;
  stub: StockStub;
  loc: string;
}

async function product(onHand: number): Promise<Part> {
  const { productId, stub } = newProduct();
  const loc = uuidv7();
  await stockUp(stub, productId, loc, onHand);
  return { productId, stub, loc };
}

function prepare(p: Part, txId: string, mode: "delta" | "set", quantity: number) {
  return p.stub.prepare({
    productId: p.productId,
    txId,
    ops: [{ locationId: p.loc, mode, quantity }],
    ttlMs: TTL,
    reason: "bulk import",
    actor: seller(),
  });
}

describe("ProductStock two-phase bulk changes", () => {
  it("leaves every product unchanged when one refuses: prepare, refusal, abort all", async () => {
    const a = await product(10);
    const b = await product(2);
    const beforeA = await a.stub.snapshot();
    const beforeB = await b.stub.snapshot();
    const txId = uuidv7();

    const okA = await prepare(a, txId, "delta", -5);
    expect(okA).toMatchObject({ ok: true, state: "prepared", ops: [{ delta: -5, held: 5 }] });
    // The hold keeps the units from buyers while the coordinator waits for the others.
    expect(await level(a.stub, a.loc)).toMatchObject({ onHand: 10, reserved: 5, available: 5 });
    const refusedB = await prepare(b, txId, "delta", -3);
    expect(refusedB).toMatchObject({
      ok: false,
      code: "INSUFFICIENT_STOCK",
      shortages: [{ locationId: b.loc, available: 2, requested: 3 }],
    });

    expect(await a.stub.abortPrepared({ txId })).toMatchObject({ ok: true, state: "aborted" });
    expect(await b.stub.abortPrepared({ txId })).toMatchObject({ ok: true, state: "aborted" });

    expect((await a.stub.snapshot()).locations).toEqual(beforeA.locations);
    expect((await b.stub.snapshot()).locations).toEqual(beforeB.locations);
    expect(await a.stub.commitPrepared({ txId })).toMatchObject({
      ok: false,
      reason: "PREPARE_ABORTED",
    });
    // A prepare that arrives after the coordinator gave up holds nothing.
    expect(await prepare(b, txId, "delta", -1)).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "PREPARE_ABORTED",
    });
    expect((await b.stub.snapshot()).locations).toEqual(beforeB.locations);
  });

  it("applies every product's change when all prepare, exactly once", async () => {
    const a = await product(10);
    const b = await product(3);
    const txId = uuidv7();
    expect(await prepare(a, txId, "delta", -4)).toMatchObject({ ok: true });
    expect(await prepare(b, txId, "set", 8)).toMatchObject({
      ok: true,
      ops: [{ delta: 5, held: 0 }],
    });
    // A retried prepare replays and holds nothing more.
    expect(await prepare(a, txId, "delta", -4)).toMatchObject({ ok: true, replayed: true });
    expect(await level(a.stub, a.loc)).toMatchObject({ reserved: 4 });

    const commitA = await a.stub.commitPrepared({ txId });
    const commitB = await b.stub.commitPrepared({ txId });
    expect(commitA).toMatchObject({
      ok: true,
      movements: [{ kind: "bulk", deltaOnHand: -4, deltaReserved: -4, txId }],
    });
    expect(commitB).toMatchObject({ ok: true, movements: [{ kind: "bulk", deltaOnHand: 5 }] });
    const again = await a.stub.commitPrepared({ txId });
    expect(again).toMatchObject({ ok: true, replayed: true });
    if (commitA.ok && again.ok) expect(again.movements).toEqual(commitA.movements);

    expect(await level(a.stub, a.loc)).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    expect(await level(b.stub, b.loc)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    expect(await a.stub.abortPrepared({ txId })).toMatchObject({
      ok: false,
      reason: "PREPARE_COMMITTED",
    });
    // A bulk movement is a person's decision, so it can be undone.
    const seq = commitA.ok ? (commitA.movements[0]?.sequence ?? 0) : 0;
    const undo = await a.stub.undo({
      productId: a.productId,
      sequence: seq,
      actor: seller(),
      key: "u",
    });
    expect(undo).toMatchObject({ ok: true, movement: { deltaOnHand: 4 } });
  });

  it("refuses a whole prepare when any location is short, listing every shortage", async () => {
    const a = await product(5);
    const second = uuidv7();
    const third = uuidv7();
    const txId = uuidv7();
    const result = await a.stub.prepare({
      productId: a.productId,
      txId,
      ops: [
        { locationId: a.loc, mode: "delta", quantity: -5 },
        { locationId: second, mode: "delta", quantity: -1 },
        { locationId: third, mode: "delta", quantity: 7 },
      ],
      ttlMs: TTL,
      actor: seller(),
    });
    expect(result).toMatchObject({ ok: false, code: "INSUFFICIENT_STOCK" });
    if (!result.ok && result.code === "INSUFFICIENT_STOCK") {
      expect(result.shortages.map((s) => s.locationId)).toEqual([second]);
    }
    expect(await level(a.stub, a.loc)).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await level(a.stub, third)).toMatchObject({ onHand: 0 });
    expect(await a.stub.commitPrepared({ txId })).toMatchObject({ ok: false, code: "NOT_FOUND" });
  });

  it("drops an uncommitted prepare's hold when it expires, so a dead coordinator leaves no trace", async () => {
    const a = await product(10);
    const txId = uuidv7();
    expect(await prepare(a, txId, "delta", -7)).toMatchObject({ ok: true });
    const buyer = await a.stub.reserve({
      productId: a.productId,
      locationId: a.loc,
      quantity: 4,
      ttlMs: 60_000,
      key: "buyer",
    });
    expect(buyer).toMatchObject({ ok: false, code: "INSUFFICIENT_STOCK", available: 3 });

    await backdatePrepared(a.stub, txId);
    expect(await runDurableObjectAlarm(a.stub)).toBe(true);

    expect(await level(a.stub, a.loc)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    expect((await a.stub.movements()).at(-1)).toMatchObject({ kind: "hold_expire", txId });
    expect(await a.stub.commitPrepared({ txId })).toMatchObject({
      ok: false,
      reason: "PREPARE_EXPIRED",
    });
    expect(await a.stub.abortPrepared({ txId })).toMatchObject({
      ok: true,
      state: "expired",
      replayed: true,
    });
  });
});
