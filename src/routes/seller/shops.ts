import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { listMyShops } from "../../services/shops/queries.ts";
import { bearer, ok, problems } from "../schemas.ts";
import { ShopManagedPage } from "../shops/schema.ts";
import { sellerShopSettingsRoutes } from "../shops/settings.ts";
import { sellerShopAuditRoutes } from "./audit.ts";
import { sellerDeliverySlotRoutes } from "./delivery-slots.ts";
import { sellerLocationRoutes } from "./locations.ts";
import { sellerTaxRateRoutes } from "./tax-rates.ts";

const mine = createRoute({
  method: "get",
  path: "/",
  tags: ["shops"],
  summary: "The shops you are on the team of, whatever their status, with your role",
  security: bearer,
  middleware: [requireAuth],
  request: { query: pageQuery },
  responses: { 200: ok("A page of your shops", ShopManagedPage), ...problems(401, 422) },
});

/**
 * `/v1/seller/shops`: the caller's own shops, and each shop's settings, audit trail, locations
 * and delivery schedule for its team.
 */
export const sellerShopRoutes = createRouter()
  .openapi(mine, async (c) =>
    c.json(await listMyShops(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .route("/", sellerShopSettingsRoutes)
  .route("/", sellerShopAuditRoutes)
  .route("/", sellerLocationRoutes)
  .route("/", sellerDeliverySlotRoutes)
  .route("/", sellerTaxRateRoutes);
