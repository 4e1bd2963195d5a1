import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import type { AuthUser } from "../../http/context.ts";
import { optionalAuth, requireAuth, requireRole } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { createShop, createShopInput } from "../../services/shops/create-shop.ts";
import { getShop, listVisibleShops } from "../../services/shops/queries.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { shopBranchRoutes } from "./branches.ts";
import { deliverySlotRoutes } from "./delivery-slots.ts";
import { shopFeedbackRoutes } from "./feedback.ts";
import { otpRoutes } from "./otp.ts";
import { payoutRoutes } from "./payouts.ts";
import { bodyOf, ShopManagedSchema, ShopPage, ShopViewSchema } from "./schema.ts";
import { shopSettingsRoutes } from "./settings.ts";
import { staffRoutes } from "./staff.ts";

const ShopListQuery = pageQuery.extend({
  q: text()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Matches the shop's name or slug." }),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
    .transform((c) => c.toUpperCase())
    .optional(),
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["shops"],
  summary: "Open a shop (sellers): it starts pending, invisible to buyers",
  description:
    "Creates the shop, makes the caller its owner and gives it a default warehouse (code `WH`). " +
    "Buyers see it only once its contact email is OTP-verified and an admin approves it.",
  security: bearer,
  middleware: [requireAuth, requireRole("seller")],
  request: { body: json(bodyOf(createShopInput, "CreateShopInput")) },
  responses: {
    201: ok("Created, pending review", ShopManagedSchema),
    ...problems(401, 403, 409, 422),
  },
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["shops"],
  summary: "Shops buyers can see (approved and verified), newest first",
  request: { query: ShopListQuery },
  responses: { 200: ok("A page of shops", ShopPage), ...problems(422) },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["shops"],
  summary: "One shop: visible shops to anyone; any state to its team and admins",
  description:
    "A shop that is not approved, not email-verified, or suspended answers 404 to everyone " +
    "except its own members and admins, who also get the managed fields.",
  security: [{}, ...bearer],
  middleware: [optionalAuth],
  request: { params: IdParam },
  responses: { 200: ok("The shop", ShopViewSchema), ...problems(401, 404, 422) },
});

/**
 * `/v1/shops`: open a shop, browse visible shops, verify contacts, manage the team, payouts and
 * settings; a shop's branches, delivery windows and feedback for buyers.
 */
export const shopRoutes = createRouter()
  .openapi(create, async (c) =>
    c.json(await createShop(serviceContext(c), c.var.user.id, c.req.valid("json")), 201),
  )
  .openapi(list, async (c) =>
    c.json(await listVisibleShops(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(get, async (c) => {
    const user: AuthUser | undefined = c.get("user");
    const viewer = user ? { id: user.id, role: user.role } : null;
    return c.json(await getShop(serviceContext(c), viewer, c.req.valid("param").id), 200);
  })
  .route("/", otpRoutes)
  .route("/", staffRoutes)
  .route("/", payoutRoutes)
  .route("/", shopSettingsRoutes)
  .route("/", shopBranchRoutes)
  .route("/", deliverySlotRoutes)
  .route("/", shopFeedbackRoutes);
