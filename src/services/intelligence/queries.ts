import { and, asc, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { products } from "../../db/schema/catalog.ts";
import { productForecasts, type StoredForecastPoint } from "../../db/schema/intelligence.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { lastComputed, recomputeShop } from "./compute.ts";
import { keysetOr422 } from "./cursor.ts";
import { type CustomerView, customerListQuery, listCustomers } from "./customers.ts";
import { MIN_HISTORY_DAYS } from "./forecast/forecast.ts";
import type { MethodName } from "./forecast/methods.ts";
import {
  listRecommendations,
  type RecommendationView,
  recommendationListQuery,
} from "./recommendations.ts";
import {
  DEFAULT_LEAD_TIME_DAYS,
  DEFAULT_SERVICE_LEVEL,
  type ProductReorder,
  REVIEW_DAYS,
  shopReorder,
} from "./reorder.ts";

const refreshFlag = z
  .enum(["true", "false"])
  .default("false")
  .transform((v) => v === "true");

/**
 * Checks the user is an owner or manager of the shop (anyone else 404, staff 403), then makes
 * sure the shop has been computed: `refresh` recomputes now, and so does a first read.
 */
async function openShop(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  refresh: boolean,
): Promise<Date> {
  await requireShopPermission(ctx.db, shopId, userId, "analytics.read");
  const at = await lastComputed(ctx.db, shopId);
  if (at && !refresh) return at;
  const now = new Date();
  await recomputeShop(ctx, shopId, now);
  return now;
}

export const forecastQuery = z.object({
  shopId: z.uuid(),
  productId: z.uuid().optional(),
  refresh: refreshFlag,
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

export interface ForecastView {
  productId: string;
  sku: string;
  title: string;
  state: "ok" | "not_enough_history";
  historyDays: number;
  minHistoryDays: number;
  method: MethodName | null;
  params: Record<string, number> | null;
  sigma: number | null;
  points: StoredForecastPoint[];
  backtest: Record<string, unknown> | null;
  recent: { actual7: number; expected7: number; upper80: number } | null;
  unitsLast28: number;
  lastSaleDay: string | null;
  computedAt: string;
}

/** The shop's stored forecasts by product id (one product with `productId`), paged. */
export async function getForecasts(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof forecastQuery>,
): Promise<Page<ForecastView> & { computedAt: string }> {
  const q = parseOr422(forecastQuery, raw, "query");
  const after = keysetOr422(q.cursor, z.object({ productId: z.uuid() }));
  const computedAt = await openShop(ctx, userId, q.shopId, q.refresh);
  const rows = await ctx.db
    .select({ f: productForecasts, sku: products.sku, title: products.title })
    .from(productForecasts)
    .innerJoin(products, eq(products.id, productForecasts.productId))
    .where(
      and(
        eq(productForecasts.shopId, q.shopId),
        isNull(products.deletedAt),
        q.productId ? eq(productForecasts.productId, q.productId) : undefined,
        after ? gt(productForecasts.productId, after.productId) : undefined,
      ),
    )
    .orderBy(asc(productForecasts.productId))
    .limit(q.limit + 1);
  if (q.productId && rows.length === 0) throw new NotFound("product", q.productId);
  const page = toPage(rows, q.limit, (r) => ({ productId: r.f.productId }));
  return {
    computedAt: computedAt.toISOString(),
    nextCursor: page.nextCursor,
    items: page.items.map(({ f, sku, title }) => ({
      productId: f.productId,
      sku,
      title,
      state: f.state as ForecastView["state"],
      historyDays: f.historyDays,
      minHistoryDays: MIN_HISTORY_DAYS,
      method: f.method as MethodName | null,
      params: f.params,
      sigma: f.sigma,
      points: f.points,
      backtest: f.backtest,
      recent: f.recent,
      unitsLast28: f.unitsLast28,
      lastSaleDay: f.lastSaleDay,
      computedAt: f.computedAt.toISOString(),
    })),
  };
}

export const reorderQuery = z.object({
  shopId: z.uuid(),
  productId: z.uuid().optional(),
  refresh: refreshFlag,
});

/** Reorder points per product and location, most urgent (earliest stock-out) first. */
export async function getReorder(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof reorderQuery>,
): Promise<{
  computedAt: string;
  defaults: { leadTimeDays: number; serviceLevel: number; reviewDays: number };
  items: ProductReorder[];
}> {
  const q = parseOr422(reorderQuery, raw, "query");
  const computedAt = await openShop(ctx, userId, q.shopId, q.refresh);
  const items = await shopReorder(ctx.db, q.shopId, q.productId ? { productId: q.productId } : {});
  if (q.productId && items.length === 0) throw new NotFound("product", q.productId);
  const soonest = (p: ProductReorder) =>
    p.locations.map((l) => l.stockoutDay ?? "9999").sort()[0] ?? "9999";
  items.sort(
    (a, b) => soonest(a).localeCompare(soonest(b)) || a.productId.localeCompare(b.productId),
  );
  return {
    computedAt: computedAt.toISOString(),
    defaults: {
      leadTimeDays: DEFAULT_LEAD_TIME_DAYS,
      serviceLevel: DEFAULT_SERVICE_LEVEL,
      reviewDays: REVIEW_DAYS,
    },
    items,
  };
}

export const customersQuery = customerListQuery.extend({ refresh: refreshFlag });

/** The shop's customers with RFM scores, segment and churn risk, biggest spenders first. */
export async function getCustomers(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof customersQuery>,
): Promise<Page<CustomerView> & { computedAt: string }> {
  const q = parseOr422(customersQuery, raw, "query");
  const computedAt = await openShop(ctx, userId, q.shopId, q.refresh);
  return { computedAt: computedAt.toISOString(), ...(await listCustomers(ctx.db, q)) };
}

export const recommendationsQuery = recommendationListQuery.extend({ refresh: refreshFlag });

/** The shop's recommendation feed, open ones (new, seen) by default, newest first. */
export async function getRecommendations(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof recommendationsQuery>,
): Promise<Page<RecommendationView> & { computedAt: string }> {
  const q = parseOr422(recommendationsQuery, raw, "query");
  const computedAt = await openShop(ctx, userId, q.shopId, q.refresh);
  return { computedAt: computedAt.toISOString(), ...(await listRecommendations(ctx.db, q)) };
}
