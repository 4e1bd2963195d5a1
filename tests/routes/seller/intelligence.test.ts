import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "../../../src/db/schema/index.ts";
import type { CustomerView } from "../../../src/services/intelligence/customers.ts";
import type { ForecastView } from "../../../src/services/intelligence/queries.ts";
import type { RecommendationView } from "../../../src/services/intelligence/recommendations.ts";
import type { ProductReorder } from "../../../src/services/intelligence/reorder.ts";
import type { ReorderSettingsView } from "../../../src/services/intelligence/settings.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";
import { type IntelligenceShop, intelligenceShop } from "./intelligence-fixtures.ts";

type PageOf<T> = { computedAt: string; items: T[]; nextCursor: string | null } & Problem;
type ReorderBody = { computedAt: string; items: ProductReorder[] } & Problem;

const get = <T>(token: string, path: string) =>
  api<T>("GET", `/v1/seller/analytics${path}`, { token });

let s: IntelligenceShop;
let owner: string;

beforeAll(async () => {
  s = await intelligenceShop();
  owner = s.shop.owner.accessToken;
}, 120_000);

describe("GET /v1/seller/analytics/forecasts", () => {
  it("forecasts 28 days with ordered 80% and 95% bounds for a product with history", async () => {
    const res = await get<PageOf<ForecastView>>(
      owner,
      `/forecasts?shopId=${s.shop.id}&productId=${s.fast.id}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [f] = res.body.items;
    expect(f).toMatchObject({ productId: s.fast.id, state: "ok" });
    expect(f?.points).toHaveLength(28);
    for (const p of f?.points ?? []) {
      expect(p.lo95).toBeLessThanOrEqual(p.lo80);
      expect(p.lo80).toBeLessThanOrEqual(p.mean);
      expect(p.mean).toBeLessThanOrEqual(p.hi80);
      expect(p.hi80).toBeLessThanOrEqual(p.hi95);
    }
    expect(f?.backtest?.scores).toHaveProperty("seasonal_naive.mase", 1);
  });

  it("says not_enough_history, with no points, under 30 days of history", async () => {
    const res = await get<PageOf<ForecastView>>(
      owner,
      `/forecasts?shopId=${s.shop.id}&productId=${s.fresh.id}`,
    );
    expect(res.body.items[0]).toMatchObject({
      state: "not_enough_history",
      historyDays: 10,
      minHistoryDays: 30,
      method: null,
      points: [],
    });
  });

  it("pages through the shop's products with a cursor", async () => {
    const first = await get<PageOf<ForecastView>>(owner, `/forecasts?shopId=${s.shop.id}&limit=3`);
    expect(first.body.items).toHaveLength(3);
    const next = await get<PageOf<ForecastView>>(
      owner,
      `/forecasts?shopId=${s.shop.id}&limit=3&cursor=${first.body.nextCursor}`,
    );
    expect(next.body.items).toHaveLength(1);
    expect(next.body.nextCursor).toBeNull();
  });

  it("recomputes with refresh=true", async () => {
    const before = await get<PageOf<ForecastView>>(owner, `/forecasts?shopId=${s.shop.id}&limit=1`);
    const after = await get<PageOf<ForecastView>>(
      owner,
      `/forecasts?shopId=${s.shop.id}&limit=1&refresh=true`,
    );
    expect(Date.parse(after.body.computedAt)).toBeGreaterThan(Date.parse(before.body.computedAt));
  });

  it("answers 404 to someone outside the shop and 403 to staff", async () => {
    const stranger = await registerUser("seller");
    expect(
      (await get<Problem>(stranger.accessToken, `/forecasts?shopId=${s.shop.id}`)).status,
    ).toBe(404);
    expect(
      (await get<Problem>(s.shop.staff.accessToken, `/forecasts?shopId=${s.shop.id}`)).status,
    ).toBe(403);
  });

  it("lets a manager read", async () => {
    expect(
      (await get<Problem>(s.shop.manager.accessToken, `/forecasts?shopId=${s.shop.id}`)).status,
    ).toBe(200);
  });
});

describe("GET /v1/seller/analytics/reorder", () => {
  it("asks to reorder the fast seller before it runs out, with the numbers", async () => {
    const res = await get<ReorderBody>(owner, `/reorder?shopId=${s.shop.id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const fast = res.body.items.find((p) => p.productId === s.fast.id);
    const wh = fast?.locations.find((l) => l.locationId === s.shop.warehouseId);
    expect(wh).toMatchObject({ available: 20, status: "reorder_now", share: 1 });
    expect(wh?.reorderPoint).toBeGreaterThan(20);
    expect(wh?.suggestedQuantity).toBeGreaterThan(0);
    expect(wh?.stockoutDay).not.toBeNull();
    // Earliest stock-out first.
    expect(res.body.items[0]?.productId).toBe(s.fast.id);
  });

  it("uses a product's own lead time once set, and says so", async () => {
    const set = await api<ReorderSettingsView & Problem>(
      "PATCH",
      `/v1/seller/analytics/settings/products/${s.slow.id}`,
      { token: owner, body: { leadTimeDays: 21, serviceLevel: 0.99 } },
    );
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.effective).toEqual({ leadTimeDays: 21, serviceLevel: 0.99 });
    const res = await get<ReorderBody>(
      owner,
      `/reorder?shopId=${s.shop.id}&productId=${s.slow.id}`,
    );
    expect(res.body.items[0]).toMatchObject({
      leadTimeDays: 21,
      serviceLevel: 0.99,
      settings: { leadTimeDays: "custom", serviceLevel: "custom" },
    });
  });

  it("audits a settings change", async () => {
    await api("PATCH", `/v1/seller/analytics/settings/products/${s.idle.id}`, {
      token: owner,
      body: { leadTimeDays: 10 },
    });
    const rows = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(
          and(eq(auditLog.entityId, s.idle.id), eq(auditLog.action, "reorder_settings.updated")),
        ),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.newValue).toEqual({ leadTimeDays: 10, serviceLevel: null });
  });

  it("refuses a service level out of range, naming the field", async () => {
    const res = await api<Problem>("PATCH", `/v1/seller/analytics/settings/products/${s.slow.id}`, {
      token: owner,
      body: { serviceLevel: 1.5 },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("serviceLevel");
  });

  it("hides another shop's product settings behind a 404", async () => {
    const stranger = await registerUser("seller");
    const res = await get<Problem>(stranger.accessToken, `/settings/products/${s.slow.id}`);
    expect(res.status).toBe(404);
  });
});

describe("GET /v1/seller/analytics/customers", () => {
  it("marks the buyer who stopped buying weekly as at risk, high churn", async () => {
    const res = await get<PageOf<CustomerView>>(owner, `/customers?shopId=${s.shop.id}&risk=high`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const lapsed = res.body.items.find((c) => c.buyerId === s.lapsed);
    expect(lapsed).toMatchObject({
      orders: 11,
      typicalGapDays: 7,
      segment: "at_risk",
      churnRisk: "high",
    });
    expect(lapsed?.daysSinceLast).toBeGreaterThanOrEqual(79);
  });

  it("filters by segment", async () => {
    const res = await get<PageOf<CustomerView>>(
      owner,
      `/customers?shopId=${s.shop.id}&segment=at_risk`,
    );
    expect(res.body.items.map((c) => c.buyerId)).toEqual([s.lapsed]);
  });

  it("pages biggest spenders first", async () => {
    const first = await get<PageOf<CustomerView>>(owner, `/customers?shopId=${s.shop.id}&limit=4`);
    const rest = await get<PageOf<CustomerView>>(
      owner,
      `/customers?shopId=${s.shop.id}&limit=4&cursor=${first.body.nextCursor}`,
    );
    const all = [...first.body.items, ...rest.body.items];
    expect(all).toHaveLength(7);
    expect(all.map((c) => c.spendMinor)).toEqual(
      [...all.map((c) => c.spendMinor)].sort((a, b) => b - a),
    );
  });

  it("refuses a garbage cursor with a 422 naming it", async () => {
    const res = await get<Problem>(owner, `/customers?shopId=${s.shop.id}&cursor=nope`);
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("cursor");
  });
});

describe("/v1/seller/analytics/recommendations", () => {
  const feed = async (query = "") =>
    (await get<PageOf<RecommendationView>>(owner, `/recommendations?shopId=${s.shop.id}${query}`))
      .body.items;

  it("raises a reorder, a win-back and slow-stock actions, each with its numbers", async () => {
    const items = await feed("&status=all&limit=50");
    const reorder = items.find((r) => r.kind === "reorder" && r.productId === s.fast.id);
    expect(reorder).toMatchObject({ urgency: "high", status: "new" });
    expect(reorder?.figures).toMatchObject({ leadTimeDays: 7, serviceLevel: 0.95 });
    expect(items.find((r) => r.kind === "win_back")?.figures).toMatchObject({ customers: 1 });
    const idle = items.find((r) => r.kind === "move_slow_stock" && r.productId === s.idle.id);
    expect(idle?.figures).toMatchObject({ available: 40, lastSaleDay: null });
  });

  it("moves new → seen → done, audited, and refuses going back", async () => {
    const [first] = await feed("&kind=move_slow_stock");
    const patch = (status: string) =>
      api<RecommendationView>("PATCH", `/v1/seller/analytics/recommendations/${first?.id}`, {
        token: owner,
        body: { status },
      });
    expect((await patch("seen")).body.status).toBe("seen");
    expect((await patch("done")).body.status).toBe("done");
    expect((await patch("seen")).status).toBe(409);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(eq(auditLog.entityId, first?.id ?? "")),
    );
    expect(audits.map((a) => a.newValue)).toEqual([
      expect.objectContaining({ status: "seen" }),
      expect.objectContaining({ status: "done" }),
    ]);
  });

  it("keeps a done recommendation's subject quiet on the next recompute", async () => {
    const done = (await feed("&status=done")).filter((r) => r.kind === "move_slow_stock");
    expect(done).toHaveLength(1);
    await get(owner, `/recommendations?shopId=${s.shop.id}&refresh=true`);
    const open = await feed("&kind=move_slow_stock");
    expect(open.map((r) => r.productId)).not.toContain(done[0]?.productId);
  });

  it("answers 404 for another shop's recommendation", async () => {
    const [any] = await feed();
    const stranger = await registerUser("seller");
    const res = await api<Problem>("PATCH", `/v1/seller/analytics/recommendations/${any?.id}`, {
      token: stranger.accessToken,
      body: { status: "seen" },
    });
    expect(res.status).toBe(404);
  });
});
