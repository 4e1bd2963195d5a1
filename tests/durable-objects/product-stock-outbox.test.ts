import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import type { ProductStock } from "../../durable-objects/product-stock.ts";
import { stockMovements } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { auditRows } from "../helpers/audit.ts";
import { withDb } from "../helpers/db.ts";
import { aimMirror } from "../helpers/object-hooks.ts";
import { newProduct, type StockStub, seller, stockUp } from "../helpers/stock.ts";

/** Nothing listens on port 1: every connection is refused, as when Postgres is down. */
const UNREACHABLE = "postgres://postgres:postgres@127.0.0.1:1/souk";
const TTL = 10 * 60_000;

async function mirrored(productId: string) {
  return withDb((db) =>
    db
      .select()
      .from(stockMovements)
      .where(eq(stockMovements.productId, productId))
      .orderBy(asc(stockMovements.sequence)),
  );
}

/** Six movements of every shape the outbox carries. */
async function busyDay(stub: StockStub, productId: string, loc: string): Promise<void> {
  await stockUp(stub, productId, loc, 20);
  const a = await stub.reserve({ productId, locationId: loc, quantity: 3, ttlMs: TTL, key: "a" });
  const b = await stub.reserve({ productId, locationId: loc, quantity: 2, ttlMs: TTL, key: "b" });
  if (!a.ok || !b.ok) throw new Error("reserve failed");
  await stub.commit({ reservationId: a.reservationId });
  await stub.release({ reservationId: b.reservationId });
  await stub.setThreshold({ productId, locationId: loc, threshold: 30, actor: seller() });
}

describe("ProductStock outbox", () => {
  it("mirrors every movement and its audit row once", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await busyDay(stub, productId, loc);

    const flushed = await stub.flushOutbox();
    expect(flushed.error).toBeNull();
    const rows = await mirrored(productId);
    expect(rows.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.map((r) => r.kind)).toEqual([
      "set",
      "reserve",
      "reserve",
      "commit",
      "release",
      "threshold",
    ]);
    expect(rows[3]).toMatchObject({ deltaOnHand: -3, deltaReserved: -3, onHandAfter: 17 });
    expect(rows[5]).toMatchObject({ lowStockThreshold: 30, lowStock: true, alert: "raised" });

    const audit = await auditRows(
      rows.map((r) => r.id),
      { entityType: "stock_movement" },
    );
    expect(audit).toHaveLength(6);
    expect(new Set(audit.map((a) => a.entityId)).size).toBe(6);
    const commitAudit = audit.find((a) => a.entityId === rows[3]?.id);
    expect(commitAudit).toMatchObject({ action: "stock.committed", actorType: "system" });
    const setAudit = audit.find((a) => a.entityId === rows[0]?.id);
    expect(setAudit).toMatchObject({ action: "stock.set", actorType: "user" });
    expect(setAudit?.actorId).toBe(rows[0]?.actorId);
    expect((await stub.snapshot()).pendingOutbox).toBe(0);
  });

  it("keeps taking movements while Postgres is down and mirrors each exactly once after it returns", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await aimMirror(stub, UNREACHABLE);

    await busyDay(stub, productId, loc);
    const failed = await stub.flushOutbox();
    expect(failed.error).not.toBeNull();
    expect(failed.pending).toBe(6);
    const during = await stub.snapshot();
    expect(during.pendingOutbox).toBe(6);
    expect(during.mirror.failures).toBeGreaterThanOrEqual(1);
    expect(during.mirror.retryAt).not.toBeNull();
    expect(during.locations[0]).toMatchObject({ onHand: 17, reserved: 0 });
    expect(await mirrored(productId)).toHaveLength(0);

    // Postgres is back; the alarm's next flush drains the outbox.
    await aimMirror(stub, null);
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect((await stub.snapshot()).pendingOutbox).toBe(0), {
      timeout: 15_000,
      interval: 100,
    });

    const rows = await mirrored(productId);
    expect(rows.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      await auditRows(
        rows.map((r) => r.id),
        { entityType: "stock_movement" },
      ),
    ).toHaveLength(6);
    expect((await stub.snapshot()).mirror).toEqual({ failures: 0, retryAt: null, lastError: null });

    // Another flush, with nothing pending, adds nothing.
    expect(await stub.flushOutbox()).toEqual({ mirrored: 0, pending: 0, error: null });
    expect(await mirrored(productId)).toHaveLength(6);
  });

  it("adds nothing when a flush Postgres already committed is retried (a lost acknowledgement)", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await aimMirror(stub, UNREACHABLE);
    await busyDay(stub, productId, loc);
    await runInDurableObject(stub, (_i: ProductStock, state) => {
      state.storage.sql.exec("CREATE TABLE outbox_copy AS SELECT * FROM outbox");
    });
    await aimMirror(stub, null);
    expect(await stub.flushOutbox()).toMatchObject({ mirrored: 6, pending: 0, error: null });

    // The rows come back as if the acknowledgement had never been recorded.
    await runInDurableObject(stub, (_i: ProductStock, state) => {
      state.storage.sql.exec("INSERT INTO outbox SELECT * FROM outbox_copy");
    });
    expect((await stub.snapshot()).pendingOutbox).toBe(6);
    expect(await stub.flushOutbox()).toEqual({ mirrored: 0, pending: 0, error: null });

    const rows = await mirrored(productId);
    expect(rows).toHaveLength(6);
    expect(
      await auditRows(
        rows.map((r) => r.id),
        { entityType: "stock_movement" },
      ),
    ).toHaveLength(6);
  });

  it("refuses to overwrite a mirror row that holds another movement under the same sequence", async () => {
    const { productId, stub } = newProduct();
    const loc = uuidv7();
    await aimMirror(stub, UNREACHABLE);
    await stockUp(stub, productId, loc, 1);
    await withDb((db) =>
      db.insert(stockMovements).values({
        id: uuidv7(),
        productId,
        locationId: loc,
        sequence: 1,
        kind: "adjust",
        deltaOnHand: 9,
        deltaReserved: 0,
        onHandAfter: 9,
        reservedAfter: 0,
        lowStock: false,
        actorType: "system",
        createdAt: new Date(),
      }),
    );
    await aimMirror(stub, null);
    const result = await stub.flushOutbox();
    expect(result.error).toMatch(/another movement/);
    expect(result.pending).toBe(1);
  });
});
