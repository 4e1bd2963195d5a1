import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, stockAlerts } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import { product, type StockShop, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";

interface Alert {
  id: string;
  productId: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
}

const alertsOf = (
  token: string,
  qs: string,
): Promise<ApiResponse<{ items: Alert[]; nextCursor: string | null } & Problem>> =>
  api("GET", `/v1/seller/stock/alerts?${qs}`, { token });

const acknowledge = (token: string, alertId: string): Promise<ApiResponse<Alert & Problem>> =>
  api("POST", `/v1/seller/stock/alerts/${alertId}/acknowledge`, { token });

/** A shop with one open alert: stock set to 2 under a threshold of 5 crosses it. */
async function openAlert(): Promise<{ shop: StockShop; alert: Alert }> {
  const shop = await stockShop();
  const p = await product(shop);
  await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 2, 5);
  const listed = await alertsOf(shop.owner.accessToken, `shopId=${shop.id}`);
  const alert = listed.body.items[0];
  if (!alert) throw new Error(`no alert raised: ${JSON.stringify(listed.body)}`);
  return { shop, alert };
}

const ackAudits = (alertId: string) =>
  withDb((db) =>
    db
      .select({ action: auditLog.action, actorId: auditLog.actorId })
      .from(auditLog)
      .where(and(eq(auditLog.entityType, "stock_alert"), eq(auditLog.entityId, alertId))),
  );

describe("acknowledging low-stock alerts", () => {
  it("acknowledges an open alert once and audits it", async () => {
    const { shop, alert } = await openAlert();
    const res = await acknowledge(shop.manager.accessToken, alert.id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: alert.id, clearedAt: null });
    expect(res.body.acknowledgedAt).not.toBeNull();
    const [row] = await withDb((db) =>
      db.select().from(stockAlerts).where(eq(stockAlerts.id, alert.id)),
    );
    expect(row?.acknowledgedBy).toBe(shop.manager.id);
    expect(await ackAudits(alert.id)).toEqual([
      { action: "stock_alert.acknowledged", actorId: shop.manager.id },
    ]);
  });

  it("leaves acknowledged alerts out of the default list; acknowledged=true|all shows them", async () => {
    const { shop, alert } = await openAlert();
    expect((await acknowledge(shop.owner.accessToken, alert.id)).status).toBe(200);
    const t = shop.owner.accessToken;
    expect((await alertsOf(t, `shopId=${shop.id}`)).body.items).toEqual([]);
    for (const flag of ["true", "all"]) {
      const shown = await alertsOf(t, `shopId=${shop.id}&acknowledged=${flag}`);
      expect(
        shown.body.items.map((a) => a.id),
        flag,
      ).toEqual([alert.id]);
      expect(shown.body.items[0]?.acknowledgedAt, flag).not.toBeNull();
    }
  });

  it("answers 409 to a second acknowledgement and audits only the first", async () => {
    const { shop, alert } = await openAlert();
    expect((await acknowledge(shop.owner.accessToken, alert.id)).status).toBe(200);
    const again = await acknowledge(shop.manager.accessToken, alert.id);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
    expect(await ackAudits(alert.id)).toHaveLength(1);
  });

  it("refuses staff with 403 and hides the alert from outsiders with 404", async () => {
    const { shop, alert } = await openAlert();
    const stranger = await registerUser("seller");
    expect((await acknowledge(shop.staff.accessToken, alert.id)).status).toBe(403);
    expect((await acknowledge(stranger.accessToken, alert.id)).status).toBe(404);
    const [row] = await withDb((db) =>
      db.select().from(stockAlerts).where(eq(stockAlerts.id, alert.id)),
    );
    expect(row?.acknowledgedAt).toBeNull();
    expect(await ackAudits(alert.id)).toEqual([]);
  });
});
