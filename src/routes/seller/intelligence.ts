import { createRoute, z } from "@hono/zod-openapi";
import {
  RECOMMENDATION_KINDS,
  RECOMMENDATION_STATUSES,
  URGENCIES,
} from "../../db/schema/intelligence.ts";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { CHURN_RISKS, SEGMENTS } from "../../services/intelligence/customers.ts";
import { METHODS } from "../../services/intelligence/forecast/methods.ts";
import {
  getCustomers,
  getForecasts,
  getRecommendations,
  getReorder,
} from "../../services/intelligence/queries.ts";
import {
  recommendationPatch,
  setRecommendationStatus,
} from "../../services/intelligence/recommendations.ts";
import {
  getReorderSettings,
  reorderSettingsInput,
  updateReorderSettings,
} from "../../services/intelligence/settings.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { named, ShopIdQuery } from "./stock/schema.ts";

const base = { tags: ["analytics"], security: bearer, middleware: [requireAuth] };
const who =
  "Owners and managers of the shop; staff get 403; anyone else 404, as if the shop did not exist.";
const computed =
  "Read from the shop's last recompute (a cron keeps it under a day old; the first read of a " +
  "shop computes it); `refresh=true` recomputes the shop first.";

const limit = z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 });
const cursor = z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." });
const refresh = z
  .enum(["true", "false"])
  .optional()
  .openapi({ description: "`true`: recompute the shop's forecasts, customers and feed first." });

const PointSchema = z.object({
  day: z.iso.date(),
  mean: z.number(),
  lo80: z.number(),
  hi80: z.number(),
  lo95: z.number(),
  hi95: z.number(),
});

const ForecastSchema = z
  .object({
    productId: z.uuid(),
    sku: z.string(),
    title: z.string(),
    state: z.enum(["ok", "not_enough_history"]).openapi({
      description: "`not_enough_history`: under `minHistoryDays` days; no method, no points.",
    }),
    historyDays: z.number().int(),
    minHistoryDays: z.number().int(),
    method: z.enum(METHODS).nullable().openapi({
      description:
        "Chosen by rolling-origin backtest: `ets` (ETS(A,N,A)), `croston` (SBA), `seasonal_naive`.",
    }),
    params: z.record(z.string(), z.number()).nullable(),
    sigma: z.number().nullable().openapi({ description: "One-step error sd, units per day." }),
    points: z
      .array(PointSchema)
      .openapi({ description: "28 days from today: mean, 80% and 95% bounds." }),
    backtest: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description:
          "`origins`, `horizon`, and per method `mae`, `mase` (MAE ÷ seasonal-naive's on the same " +
          "windows: below 1 beats it) and `maseInSample` (the textbook scaling).",
      }),
    recent: z
      .object({ actual7: z.number(), expected7: z.number(), upper80: z.number() })
      .nullable(),
    unitsLast28: z.number().int(),
    lastSaleDay: z.iso.date().nullable(),
    computedAt: z.iso.datetime(),
  })
  .openapi("ProductForecast");

const LocationReorderSchema = z.object({
  locationId: z.uuid(),
  code: z.string(),
  name: z.string(),
  available: z.number().int(),
  share: z.number().openapi({ description: "This location's share of the product's demand." }),
  demandOverLeadTime: z.number(),
  safetyStock: z.number(),
  reorderPoint: z.number(),
  suggestedQuantity: z.number().int(),
  stockoutDay: z.iso.date().nullable(),
  daysOfCover: z.number().nullable(),
  status: z.enum(["reorder_now", "ok"]),
});

const ProductReorderSchema = z
  .object({
    productId: z.uuid(),
    sku: z.string(),
    title: z.string(),
    forecastState: z.enum(["ok", "not_enough_history", "not_computed"]),
    method: z.string().nullable(),
    leadTimeDays: z.number().int(),
    serviceLevel: z.number(),
    settings: z.object({
      leadTimeDays: z.enum(["custom", "default"]),
      serviceLevel: z.enum(["custom", "default"]),
    }),
    available: z.number().int(),
    locations: z.array(LocationReorderSchema),
  })
  .openapi("ProductReorder");

const CustomerSchema = z
  .object({
    buyerId: z.uuid(),
    displayName: z.string(),
    orders: z.number().int(),
    spendMinor: z.number().int(),
    currency: z.string(),
    firstPurchaseAt: z.iso.datetime(),
    lastPurchaseAt: z.iso.datetime(),
    typicalGapDays: z.number().nullable(),
    daysSinceLast: z.number().int(),
    rfm: z.object({
      recency: z.number().int(),
      frequency: z.number().int(),
      monetary: z.number().int(),
    }),
    segment: z.enum(SEGMENTS),
    churnRisk: z.enum(CHURN_RISKS),
    computedAt: z.iso.datetime(),
  })
  .openapi("ShopCustomer");

const RecommendationSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    kind: z.enum(RECOMMENDATION_KINDS),
    productId: z.uuid().nullable(),
    urgency: z.enum(URGENCIES),
    status: z.enum(RECOMMENDATION_STATUSES),
    title: z.string(),
    detail: z.string(),
    figures: z.record(z.string(), z.unknown()).openapi({ description: "The numbers behind it." }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    statusChangedAt: z.iso.datetime().nullable(),
  })
  .openapi("Recommendation");

const SettingsSchema = z
  .object({
    productId: z.uuid(),
    leadTimeDays: z.number().int().nullable(),
    serviceLevel: z.number().nullable(),
    effective: z.object({ leadTimeDays: z.number().int(), serviceLevel: z.number() }),
    updatedAt: z.iso.datetime().nullable(),
  })
  .openapi("ReorderSettings");

const page = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      computedAt: z.iso.datetime(),
      items: z.array(item),
      nextCursor: z.string().nullable(),
    })
    .openapi(name);

const forecasts = createRoute({
  ...base,
  method: "get",
  path: "/forecasts",
  summary: "Daily demand forecasts for the next 28 days, per product (owner, manager)",
  description: `${who} ${computed} With \`productId\`, that product only (404 outside the shop).`,
  request: {
    query: z.object({
      shopId: ShopIdQuery,
      productId: z.uuid().optional(),
      refresh,
      limit,
      cursor,
    }),
  },
  responses: {
    200: ok("A page of forecasts, by product id", page(ForecastSchema, "ProductForecastPage")),
    ...problems(401, 403, 404, 422),
  },
});

const reorder = createRoute({
  ...base,
  method: "get",
  path: "/reorder",
  summary: "Reorder points, suggested quantities and stock-out dates per product and location",
  description:
    `${who} ${computed} Stock levels come from the Postgres stock mirror. Earliest stock-out ` +
    "first. Reorder point = expected demand over the lead time + z(service level)·σ·√(lead " +
    "time); suggested quantity tops stock up to lead time + review period at the service level.",
  request: { query: z.object({ shopId: ShopIdQuery, productId: z.uuid().optional(), refresh }) },
  responses: {
    200: ok(
      "Every live product's plan",
      z
        .object({
          computedAt: z.iso.datetime(),
          defaults: z.object({
            leadTimeDays: z.number().int(),
            serviceLevel: z.number(),
            reviewDays: z.number().int(),
          }),
          items: z.array(ProductReorderSchema),
        })
        .openapi("ReorderPlan"),
    ),
    ...problems(401, 403, 404, 422),
  },
});

const customers = createRoute({
  ...base,
  method: "get",
  path: "/customers",
  summary: "The shop's customers: RFM scores, segment, churn risk (owner, manager)",
  description: `${who} ${computed} Biggest spenders first; filter by \`segment\` and \`risk\`.`,
  request: {
    query: z.object({
      shopId: ShopIdQuery,
      segment: z.enum(SEGMENTS).optional(),
      risk: z.enum(CHURN_RISKS).optional(),
      refresh,
      limit,
      cursor,
    }),
  },
  responses: {
    200: ok("A page of customers", page(CustomerSchema, "ShopCustomerPage")),
    ...problems(401, 403, 404, 422),
  },
});

const recommendationsList = createRoute({
  ...base,
  method: "get",
  path: "/recommendations",
  summary: "The shop's recommended actions, open ones by default (owner, manager)",
  description: `${who} ${computed} \`status\`: \`open\` (new and seen, default), one status, or \`all\`.`,
  request: {
    query: z.object({
      shopId: ShopIdQuery,
      status: z.enum([...RECOMMENDATION_STATUSES, "open", "all"]).optional(),
      kind: z.enum(RECOMMENDATION_KINDS).optional(),
      refresh,
      limit,
      cursor,
    }),
  },
  responses: {
    200: ok(
      "A page of recommendations, newest first",
      page(RecommendationSchema, "RecommendationPage"),
    ),
    ...problems(401, 403, 404, 422),
  },
});

const recommendationUpdate = createRoute({
  ...base,
  method: "patch",
  path: "/recommendations/{id}",
  summary: "Mark a recommendation seen, done or dismissed (owner, manager)",
  description:
    `${who} new → seen → done | dismissed; the same status again changes nothing; moving back, ` +
    "or moving one already done or dismissed, is a 409. Audited.",
  request: {
    params: IdParam,
    body: json(named(recommendationPatch, "RecommendationStatusInput")),
  },
  responses: {
    200: ok("The recommendation", RecommendationSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const settingsGet = createRoute({
  ...base,
  method: "get",
  path: "/settings/products/{id}",
  summary: "A product's lead time and service level for reorder points (owner, manager)",
  description: `Owners and managers of the product's shop; staff get 403; anyone else 404.`,
  request: { params: IdParam },
  responses: {
    200: ok("The product's settings and the values in effect", SettingsSchema),
    ...problems(401, 403, 404, 422),
  },
});

const settingsUpdate = createRoute({
  ...base,
  method: "patch",
  path: "/settings/products/{id}",
  summary: "Set a product's lead time and/or service level (owner, manager)",
  description:
    "Owners and managers of the product's shop; staff get 403; anyone else 404. `null` goes " +
    "back to the default (7 days, 0.95). Lead time 1–365 days; service level 0.5–0.999. Audited.",
  request: {
    params: IdParam,
    body: json(named(reorderSettingsInput, "ReorderSettingsInput")),
  },
  responses: {
    200: ok("The product's settings and the values in effect", SettingsSchema),
    ...problems(401, 403, 404, 422),
  },
});

/** `/v1/seller/analytics/…`: forecasts, reorder points, customers, recommendations. */
export const sellerIntelligenceRoutes = createRouter()
  .openapi(forecasts, async (c) =>
    c.json(await getForecasts(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(reorder, async (c) =>
    c.json(await getReorder(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(customers, async (c) =>
    c.json(await getCustomers(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(recommendationsList, async (c) =>
    c.json(await getRecommendations(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(recommendationUpdate, async (c) =>
    c.json(
      await setRecommendationStatus(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  )
  .openapi(settingsGet, async (c) =>
    c.json(
      await getReorderSettings(serviceContext(c), c.var.user.id, c.req.valid("param").id),
      200,
    ),
  )
  .openapi(settingsUpdate, async (c) =>
    c.json(
      await updateReorderSettings(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  );
