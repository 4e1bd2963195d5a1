import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { bulkOperations } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { createLogger } from "../../../src/lib/logger.ts";
import { derive } from "../../../src/services/context.ts";
import {
  BULK_PREPARE_TTL_MS,
  redriveBulkOperations,
} from "../../../src/services/inventory/bulk.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
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
  stub,
} from "../../helpers/seller-stock.ts";
import { backdatePrepared } from "../../helpers/stock.ts";
import { registerUser } from "../../helpers/users.ts";

interface BulkResult {
  operationId: string;
  state: string;
  lines: number;
  products: number;
  movements: StockMovement[];
}

interface RefusedLine {
  index: number;
  productId: string;
  locationId: string;
  available: number | null;
  requested: number | null;
}

type BulkResponse = ApiResponse<BulkResult & Problem & { lines: RefusedLine[] | number }>;

function bulk(token: string, body: unknown, key?: string): Promise<BulkResponse> {
  return api("POST", "/v1/seller/stock/bulk", {
    token,
    body,
    ...(key ? { headers: { "idempotency-key": key } } : {}),
  });
}

/** Three products of one shop with stock at the warehouse: 10, 2 and 5. */
async function threeProducts(shop: StockShop) {
  const t = shop.owner.accessToken;
  const [a, b, c] = await Promise.all([product(shop), product(shop), product(shop)]);
  if (!a || !b || !c) throw new Error("products not created");
  await setStock(t, a.id, shop.warehouseId, 10);
  await setStock(t, b.id, shop.warehouseId, 2);
  await setStock(t, c.id, shop.warehouseId, 5);
  return { a, b, c };
}

const snapshots = (ids: string[]) => Promise.all(ids.map((id) => stub(id).snapshot()));
const locations = (snaps: Awaited<ReturnType<typeof snapshots>>) => snaps.map((s) => s.locations);

async function operation(id: string) {
  const [row] = await withDb((db) =>
    db.select().from(bulkOperations).where(eq(bulkOperations.id, id)),
  );
  return row;
}

describe("POST /v1/seller/stock/bulk", () => {
  it("leaves every product unchanged when one line is refused, and lists every refused line", async () => {
    const shop = await stockShop();
    const { a, b, c } = await threeProducts(shop);
    const before = await snapshots([a.id, b.id, c.id]);
    const res = await bulk(shop.manager.accessToken, {
      reason: "weekly recount",
      items: [
        { productId: a.id, locationId: shop.warehouseId, mode: "delta", quantity: -5 },
        { productId: b.id, locationId: shop.warehouseId, mode: "delta", quantity: -3 },
        { productId: b.id, locationId: shop.branchId, mode: "delta", quantity: 4 },
        { productId: c.id, locationId: shop.warehouseId, mode: "delta", quantity: -6 },
        { productId: c.id, locationId: shop.branchId, mode: "set", quantity: 7 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("INSUFFICIENT_STOCK");
    expect(res.body.lines).toEqual([
      expect.objectContaining({ index: 1, productId: b.id, available: 2, requested: 3 }),
      expect.objectContaining({ index: 3, productId: c.id, available: 5, requested: 6 }),
    ]);
    // A's prepare succeeded and held 5 units; the abort gave them back.
    const after = await snapshots([a.id, b.id, c.id]);
    expect(locations(after)).toEqual(locations(before));
    expect(levelAt(await stockOf(shop.owner.accessToken, a.id), shop.warehouseId)).toMatchObject({
      onHand: 10,
      reserved: 0,
    });
    for (const id of [a.id, b.id, c.id]) await flush(id);
    const kinds = (await mirrorOf(a.id)).map((m) => m.kind);
    expect(kinds).toEqual(["set", "hold", "hold_release"]);
    expect((await mirrorOf(b.id)).map((m) => m.kind)).toEqual(["set"]);
  });

  it("applies every line of every product when all can be met, as bulk movements of one operation", async () => {
    const shop = await stockShop();
    const { a, b, c } = await threeProducts(shop);
    const res = await bulk(shop.owner.accessToken, {
      shopId: shop.id,
      reason: "transfer and recount",
      items: [
        { productId: a.id, locationId: shop.warehouseId, mode: "delta", quantity: -4 },
        { productId: a.id, locationId: shop.branchId, mode: "delta", quantity: 4 },
        { productId: b.id, locationId: shop.warehouseId, mode: "set", quantity: 0 },
        { productId: c.id, locationId: shop.warehouseId, mode: "set", quantity: 9 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ state: "committed", lines: 4, products: 3 });
    expect(res.body.movements).toHaveLength(4);
    expect(
      res.body.movements.every((m) => m.kind === "bulk" && m.txId === res.body.operationId),
    ).toBe(true);
    const t = shop.owner.accessToken;
    const sa = await stockOf(t, a.id);
    expect([levelAt(sa, shop.warehouseId).onHand, levelAt(sa, shop.branchId).onHand]).toEqual([
      6, 4,
    ]);
    expect(levelAt(await stockOf(t, b.id), shop.warehouseId)).toMatchObject({
      onHand: 0,
      reserved: 0,
    });
    expect(levelAt(await stockOf(t, c.id), shop.warehouseId).onHand).toBe(9);
    expect((await operation(res.body.operationId))?.state).toBe("committed");
  });

  it("replays a retried request with the same Idempotency-Key instead of applying it twice", async () => {
    const shop = await stockShop();
    const { a } = await threeProducts(shop);
    const body = {
      reason: "delivery",
      items: [{ productId: a.id, locationId: shop.warehouseId, mode: "delta", quantity: 3 }],
    };
    const key = `bulk-${uuidv7()}`;
    const first = await bulk(shop.owner.accessToken, body, key);
    const again = await bulk(shop.owner.accessToken, body, key);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body.operationId).toBe(first.body.operationId);
    expect(levelAt(await stockOf(shop.owner.accessToken, a.id), shop.warehouseId).onHand).toBe(13);
    const other = await bulk(shop.owner.accessToken, { ...body, reason: "another" }, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("names every bad line with 422 and applies nothing", async () => {
    const shop = await stockShop();
    const other = await stockShop();
    const { a } = await threeProducts(shop);
    const foreign = await product(other);
    const line = { productId: a.id, locationId: shop.warehouseId, mode: "delta", quantity: 1 };
    const cases: Array<[unknown, string[]]> = [
      [{ reason: "x", items: [] }, ["items"]],
      [{ items: [line] }, ["reason"]],
      [{ reason: "x", items: [{ ...line, quantity: 0 }] }, ["items.0.quantity"]],
      [{ reason: "x", items: [{ ...line, mode: "set", quantity: -2 }] }, ["items.0.quantity"]],
      [{ reason: "x", items: [{ ...line, productId: "p" }] }, ["items.0.productId"]],
      [{ reason: "x", items: [line, line] }, ["items.1"]],
      [
        {
          reason: "x",
          items: [
            line,
            { ...line, productId: foreign.id },
            { ...line, locationId: other.warehouseId },
          ],
        },
        ["items.1.productId", "items.2.locationId"],
      ],
    ];
    for (const [body, fields] of cases) {
      const res = await bulk(shop.owner.accessToken, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      expect(
        res.body.errors?.map((e) => e.field),
        JSON.stringify(body),
      ).toEqual(fields);
    }
    expect(levelAt(await stockOf(shop.owner.accessToken, a.id), shop.warehouseId).onHand).toBe(10);
  });

  it("answers staff 403 and strangers 404, and changes nothing", async () => {
    const shop = await stockShop();
    const { a } = await threeProducts(shop);
    const stranger = await registerUser("seller");
    const body = {
      reason: "x",
      items: [{ productId: a.id, locationId: shop.warehouseId, mode: "delta", quantity: -1 }],
    };
    expect((await bulk(shop.staff.accessToken, body)).status).toBe(403);
    expect((await bulk(stranger.accessToken, body)).status).toBe(404);
    expect((await bulk(stranger.accessToken, { ...body, shopId: shop.id })).status).toBe(404);
    expect(levelAt(await stockOf(shop.owner.accessToken, a.id), shop.warehouseId).onHand).toBe(10);
  });
});

describe("bulk coordinator crash recovery", () => {
  // Built as the scheduler builds a job's context: derived, so db and the bindings sit on the
  // prototype (a re-drive that spread it once lost them and failed every cron run).
  const deps = (db: Parameters<Parameters<typeof withDb>[0]>[0]) =>
    derive(testContext({ db }), { logger: createLogger("error") });

  /** What a coordinator leaves when it dies: the log row and every object prepared. */
  async function abandoned(shop: StockShop, state: "preparing" | "committing") {
    const { a, b } = await threeProducts(shop);
    const txId = uuidv7();
    const plan = [
      {
        productId: a.id,
        ops: [{ locationId: shop.warehouseId, mode: "delta" as const, quantity: -4 }],
      },
      {
        productId: b.id,
        ops: [{ locationId: shop.warehouseId, mode: "set" as const, quantity: 7 }],
      },
    ];
    await withDb((db) =>
      db.insert(bulkOperations).values({
        id: txId,
        shopId: shop.id,
        source: "bulk",
        state,
        requestHash: "test",
        actorId: shop.owner.id,
        reason: "crash test",
        plan,
        // An undecided operation is re-driven only once its holds' expiry has passed.
        expiresAt: new Date(Date.now() + (state === "preparing" ? -1 : BULK_PREPARE_TTL_MS)),
      }),
    );
    for (const p of plan) {
      const r = await stub(p.productId).prepare({
        productId: p.productId,
        shopId: shop.id,
        txId,
        ops: p.ops,
        ttlMs: BULK_PREPARE_TTL_MS,
        reason: "crash test",
        actor: { type: "user", id: shop.owner.id },
      });
      expect(r.ok).toBe(true);
    }
    // The hold keeps A's 4 units from buyers while the operation is in doubt.
    expect(levelAt(await stockOf(shop.owner.accessToken, a.id), shop.warehouseId)).toMatchObject({
      onHand: 10,
      reserved: 4,
    });
    return { a, b, txId };
  }

  it("re-drives a decided operation to commit on every object", async () => {
    const shop = await stockShop();
    const { a, b, txId } = await abandoned(shop, "committing");
    const report = await withDb((db) =>
      redriveBulkOperations(deps(db), { olderThanMs: 0, ids: [txId] }),
    );
    expect(report).toEqual([{ id: txId, state: "committed" }]);
    const t = shop.owner.accessToken;
    expect(levelAt(await stockOf(t, a.id), shop.warehouseId)).toMatchObject({
      onHand: 6,
      reserved: 0,
    });
    expect(levelAt(await stockOf(t, b.id), shop.warehouseId).onHand).toBe(7);
    expect((await operation(txId))?.state).toBe("committed");
    // A second re-drive finds nothing to do.
    expect(
      await withDb((db) => redriveBulkOperations(deps(db), { olderThanMs: 0, ids: [txId] })),
    ).toEqual([]);
  });

  it("leaves a live coordinator's recent commit phase alone", async () => {
    const shop = await stockShop();
    const { txId } = await abandoned(shop, "committing");
    const report = await withDb((db) =>
      redriveBulkOperations(deps(db), { olderThanMs: 60_000, ids: [txId] }),
    );
    expect(report).toEqual([]);
    expect((await operation(txId))?.state).toBe("committing");
  });

  it("aborts an undecided operation whose holds have expired, releasing any left", async () => {
    const shop = await stockShop();
    const { a, b, txId } = await abandoned(shop, "preparing");
    const report = await withDb((db) =>
      redriveBulkOperations(deps(db), { olderThanMs: 0, ids: [txId] }),
    );
    expect(report).toEqual([{ id: txId, state: "aborted" }]);
    const t = shop.owner.accessToken;
    expect(levelAt(await stockOf(t, a.id), shop.warehouseId)).toMatchObject({
      onHand: 10,
      reserved: 0,
    });
    expect(levelAt(await stockOf(t, b.id), shop.warehouseId).onHand).toBe(2);
    expect((await operation(txId))?.state).toBe("aborted");
  });

  it("compensates the objects that committed when another's hold expired before the re-drive", async () => {
    const shop = await stockShop();
    const { a, b, txId } = await abandoned(shop, "committing");
    await backdatePrepared(stub(b.id), txId);
    const report = await withDb((db) =>
      redriveBulkOperations(deps(db), { olderThanMs: 0, ids: [txId] }),
    );
    expect(report).toEqual([{ id: txId, state: "failed" }]);
    const t = shop.owner.accessToken;
    // A committed (−4) and was undone (+4); B's prepare expired and never applied.
    expect(levelAt(await stockOf(t, a.id), shop.warehouseId)).toMatchObject({
      onHand: 10,
      reserved: 0,
    });
    expect(levelAt(await stockOf(t, b.id), shop.warehouseId)).toMatchObject({
      onHand: 2,
      reserved: 0,
    });
    const op = await operation(txId);
    expect(op?.state).toBe("failed");
    expect(op?.outcome).toMatchObject({ details: { lost: [b.id], uncompensated: [] } });
    await flush(a.id);
    expect((await mirrorOf(a.id)).map((m) => m.kind)).toEqual(["set", "hold", "bulk", "undo"]);
  });
});
