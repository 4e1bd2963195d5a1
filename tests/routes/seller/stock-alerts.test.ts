import { env } from "cloudflare:workers";
import { eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, stockAlerts } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { createLogger } from "../../../src/lib/logger.ts";
import { syncProductAlerts } from "../../../src/services/inventory/alerts.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import { adjust, flush, product, setStock, stockShop, stub } from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";

interface Alert {
  id: string;
  productId: string;
  sku: string;
  locationId: string;
  locationCode: string | null;
  threshold: number | null;
  availableAtRaise: number;
  raisedMovementId: string;
  clearedAt: string | null;
}

const alertsOf = (
  token: string,
  qs: string,
): Promise<ApiResponse<{ items: Alert[]; nextCursor: string | null } & Problem>> =>
  api("GET", `/v1/seller/stock/alerts?${qs}`, { token });

const alertRows = (productId: string) =>
  withDb((db) => db.select().from(stockAlerts).where(eq(stockAlerts.productId, productId)));

const lowStockNotices = (movementId: string) =>
  withDb((db) =>
    db
      .select({ userId: notifications.userId, kind: notifications.kind })
      .from(notifications)
      .where(like(notifications.dedupeKey, `stock.low:${movementId}:%`)),
  );

describe("low-stock alerts", () => {
  it("records one alert and tells the owner and managers when stock crosses down; clears it back up", async () => {
    const shop = await stockShop();
    const p = await product(shop, { title: "Clay mug" });
    const t = shop.manager.accessToken;
    const stocked = await setStock(t, p.id, shop.warehouseId, 10, 3);
    expect(stocked.thresholdMovement?.alert).toBeNull();

    const down = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -7,
      reason: "sold at the fair",
    });
    expect(down.body.movement).toMatchObject({ availableAfter: 3, low: true, alert: "raised" });
    // Synced before the response: the alert is there at once, not after a flush.
    const open = await alertsOf(shop.staff.accessToken, `shopId=${shop.id}`);
    expect(open.status).toBe(200);
    expect(open.body.items).toEqual([
      expect.objectContaining({
        productId: p.id,
        sku: p.sku,
        locationId: shop.warehouseId,
        locationCode: "WH",
        threshold: 3,
        availableAtRaise: 3,
        raisedMovementId: down.body.movement.id,
        clearedAt: null,
      }),
    ]);
    const notices = await eventually(async () => {
      const rows = await lowStockNotices(down.body.movement.id);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(notices.map((n) => n.userId).sort()).toEqual([shop.owner.id, shop.manager.id].sort());
    expect(notices.every((n) => n.kind === "stock.low")).toBe(true);

    // Further sales while low raise nothing new.
    const lower = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -1,
      reason: "sold",
    });
    expect(lower.body.movement.alert).toBeNull();
    expect(await alertRows(p.id)).toHaveLength(1);

    const up = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: 5,
      reason: "restock",
    });
    expect(up.body.movement).toMatchObject({ availableAfter: 7, alert: "cleared" });
    expect((await alertsOf(t, `shopId=${shop.id}`)).body.items).toEqual([]);
    const all = await alertsOf(t, `shopId=${shop.id}&state=all`);
    expect(all.body.items).toHaveLength(1);
    expect(all.body.items[0]?.clearedAt).not.toBeNull();
    const rows = await alertRows(p.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.clearedMovementId).toBe(up.body.movement.id);
  });

  it("picks up crossings made outside the API (a buyer's reservation) from the mirror, in order", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 5, 2);
    const held = await stub(p.id).reserve({
      productId: p.id,
      locationId: shop.warehouseId,
      quantity: 4,
      ttlMs: 60_000,
      key: `cart-${uuidv7()}`,
    });
    if (!held.ok) throw new Error(`reserve refused: ${held.code}`);
    await flush(p.id);
    const listed = await alertsOf(shop.owner.accessToken, `shopId=${shop.id}`);
    expect(listed.body.items.map((a) => [a.productId, a.availableAtRaise])).toEqual([[p.id, 1]]);

    // Released and flushed: the next sync closes it.
    expect((await stub(p.id).release({ reservationId: held.reservationId })).ok).toBe(true);
    await flush(p.id);
    expect((await alertsOf(shop.owner.accessToken, `shopId=${shop.id}`)).body.items).toEqual([]);
  });

  it("applies each crossing once however often it is synced", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 2, 5);
    await flush(p.id);
    const deps = (db: Parameters<Parameters<typeof withDb>[0]>[0]) => ({
      db,
      queue: env.NOTIFICATIONS,
      logger: createLogger("error"),
    });
    // The API's own sync already ran; these find nothing left.
    const again = await withDb((db) =>
      Promise.all([syncProductAlerts(deps(db), p.id), syncProductAlerts(deps(db), p.id)]),
    );
    expect(again).toEqual([
      { raised: 0, cleared: 0 },
      { raised: 0, cleared: 0 },
    ]);
    const rows = await alertRows(p.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ locationId: shop.branchId, threshold: 5, availableAtRaise: 2 });
  });

  it("is readable by any member, hidden from strangers, and names bad filters", async () => {
    const shop = await stockShop();
    const stranger = await registerUser("seller");
    expect((await alertsOf(shop.staff.accessToken, `shopId=${shop.id}`)).status).toBe(200);
    expect((await alertsOf(stranger.accessToken, `shopId=${shop.id}`)).status).toBe(404);
    for (const [qs, field] of [
      ["", "shopId"],
      [`shopId=${shop.id}&state=closed`, "state"],
      [`shopId=${shop.id}&cursor=%%%`, "cursor"],
    ] as const) {
      const res = await alertsOf(shop.owner.accessToken, qs);
      expect(res.status, qs).toBe(422);
      expect(res.body.errors?.map((e) => e.field)).toContain(field);
    }
  });
});
