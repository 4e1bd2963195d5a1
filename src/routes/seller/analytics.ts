import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { getKpis, kpiShape } from "../../services/analytics/kpis.ts";
import { MAX_PERIOD_DAYS } from "../../services/analytics/period.ts";
import {
  getSeries,
  SERIES_INTERVALS,
  SERIES_METRICS,
  seriesShape,
} from "../../services/analytics/series.ts";
import { bearer, ok, problems } from "../schemas.ts";

const base = { tags: ["analytics"], security: bearer, middleware: [requireAuth] };
const who =
  "Owners and managers of the shop; staff get 403, anyone else 404 (as if the shop did not " +
  "exist).";
const freshness =
  "Read from the daily rollups, which a cron brings up to date every 10 minutes (`asOf` in " +
  "the KPIs says how far); `refresh=true` first rebuilds this shop's days changed since. Days " +
  "are UTC; refunds and cancellations count on the day of the sale they undo.";
const day = (description: string) =>
  z.iso.date().openapi({ description: `${description} (YYYY-MM-DD, UTC).`, example: "2026-11-01" });
const refresh = z.enum(["true", "false"]).default("false").openapi({
  description: "`true`: rebuild this shop's changed days before reading.",
});

const money = z.number().int().openapi({ description: "Minor units of `currency`." });
const FiguresSchema = z
  .object({
    grossMinor: money,
    refundsMinor: money,
    feesMinor: money.openapi({ description: "The platform fee, minor units." }),
    netMinor: money.openapi({ description: "gross − refunds − fees, minor units." }),
    orders: z.number().int().openapi({ description: "Paid orders and offline sales." }),
    units: z.number().int().openapi({ description: "Units sold, refunded or not." }),
    refundedUnits: z.number().int(),
    averageOrderValueMinor: z.number().int().nullable().openapi({ description: "gross ÷ orders" }),
    offlineGrossMinor: money,
    offlineUnits: z.number().int(),
  })
  .openapi("SalesFigures");

const KpisSchema = z
  .object({
    shopId: z.uuid(),
    currency: z.string(),
    period: z.object({ from: z.iso.date(), to: z.iso.date() }),
    comparePeriod: z.object({ from: z.iso.date(), to: z.iso.date() }),
    current: FiguresSchema,
    previous: FiguresSchema,
    change: z.record(z.string(), z.number().nullable()).openapi({
      description: "(current − previous) ÷ previous per figure; null where previous is 0.",
    }),
    topProducts: z.array(
      z.object({
        productId: z.uuid(),
        sku: z.string(),
        title: z.string(),
        categoryId: z.uuid(),
        grossMinor: money,
        netMinor: money,
        units: z.number().int(),
        orders: z.number().int(),
      }),
    ),
    topCategories: z.array(
      z.object({
        categoryId: z.uuid(),
        name: z.string(),
        grossMinor: money,
        netMinor: money,
        units: z.number().int(),
      }),
    ),
    sellThrough: z.number().nullable().openapi({
      description: "Units sold and kept in the period ÷ (those + units on hand now).",
    }),
    inventory: z.object({
      skus: z.number().int(),
      units: z.number().int().openapi({ description: "On hand over every live location." }),
      availableUnits: z.number().int(),
      stockValueMinor: money.openapi({ description: "On hand × current price (retail value)." }),
      lowStock: z.number().int(),
      outOfStock: z.number().int(),
      daysOfCover: z.number().nullable().openapi({
        description: "Available ÷ units sold and kept per day in the period.",
      }),
    }),
    asOf: z.iso.datetime().nullable(),
  })
  .openapi("AnalyticsKpis");

const SeriesSchema = z
  .object({
    shopId: z.uuid(),
    productId: z.uuid().nullable(),
    metric: z.enum(SERIES_METRICS),
    interval: z.enum(SERIES_INTERVALS),
    currency: z.string(),
    from: z.iso.date(),
    to: z.iso.date(),
    points: z.array(
      z.object({
        period: z.iso.date().openapi({ description: "The bucket's first day." }),
        value: z.number(),
      }),
    ),
  })
  .openapi("AnalyticsSeries");

const span = `At most ${MAX_PERIOD_DAYS} days; \`to\` not before \`from\` (422 naming it).`;

const kpis = createRoute({
  ...base,
  method: "get",
  path: "/kpis",
  summary: "A shop's KPIs for a period against a comparison period, and its inventory health",
  description:
    `${who} ${freshness} Without compareFrom/compareTo the comparison is the period just ` +
    `before, of the same length. ${span}`,
  request: {
    query: z.object({
      ...kpiShape.shape,
      shopId: z.uuid().openapi({ description: "The shop." }),
      from: day("First day"),
      to: day("Last day, included"),
      compareFrom: day("First day of the comparison").optional(),
      compareTo: day("Last day of the comparison, included").optional(),
      top: z.coerce.number().int().min(1).max(50).default(10).openapi({
        description: "How many top products and categories.",
      }),
      refresh,
    }),
  },
  responses: { 200: ok("The KPIs", KpisSchema), ...problems(401, 403, 404, 422) },
});

const series = createRoute({
  ...base,
  method: "get",
  path: "/series",
  summary: "Revenue, orders or units per day, ISO week or month, for a shop or one product",
  description:
    `${who} ${freshness} \`revenue\` is gross (net_revenue after refunds and fees); every ` +
    `bucket from \`from\` to \`to\` is listed, zeros included. ${span}`,
  request: {
    query: z.object({
      ...seriesShape.shape,
      from: day("First day"),
      to: day("Last day, included"),
      productId: z.uuid().optional().openapi({ description: "One product of the shop." }),
      refresh,
    }),
  },
  responses: { 200: ok("The series", SeriesSchema), ...problems(401, 403, 404, 422) },
});

/** `/v1/seller/analytics`: dashboards read from the daily sales rollups. */
export const sellerAnalyticsRoutes = createRouter()
  .openapi(kpis, async (c) =>
    c.json(await getKpis(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(series, async (c) =>
    c.json(await getSeries(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  );
