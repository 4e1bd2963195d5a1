import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  getShopSettings,
  MANAGER_SHOP_FIELDS,
  shopSettingsInput,
  updateShopSettings,
} from "../../services/shops/settings.ts";
import { bearer, IdParam, json, named, ok, problems } from "../schemas.ts";
import { ShopManagedSchema } from "./schema.ts";

export const ShopSettingsSchema = ShopManagedSchema.extend({
  timeZone: z.string().openapi({
    description: "IANA time zone of the shop's opening hours.",
    example: "Asia/Jerusalem",
  }),
  deliveryFeeMinor: z.number().int().nullable().openapi({
    description: "Delivery fee in minor units of `currency`; null: the platform default.",
  }),
  freeDeliveryMinMinor: z.number().int().nullable().openapi({
    description: "Subtotal from which delivery is free, minor units; null: the platform default.",
  }),
  pricesIncludeTax: z.boolean().openapi({
    description: "Prices and the delivery fee include tax (true) or have it added (false).",
  }),
  taxRateBps: z.number().int().openapi({
    description: "The default tax rate, basis points (1700 = 17%); categories may have their own.",
    example: 1700,
  }),
}).openapi("ShopSettings", {
  description: "A shop as its team sees it, with its time zone, delivery fee rules and taxes.",
});

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const update = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  summary: "Change a shop's profile, contacts, currency, time zone, delivery fees and taxes",
  description:
    "The owner may change every field. A manager may change only " +
    `${MANAGER_SHOP_FIELDS.map((f) => `\`${f}\``).join(", ")} (anything else is 403); staff ` +
    "get 403 and anyone outside the shop 404. `currency` can change only while the shop has " +
    "no orders and no live auction (409 naming `currency`); its products follow, with the " +
    "same numbers of minor units (re-price them). A new `contactEmail` or `contactPhone` " +
    "must be verified again by OTP, and the shop is hidden from buyers until its email is. " +
    "`deliveryFeeMinor`/`freeDeliveryMinMinor` null return to the platform defaults. " +
    "`pricesIncludeTax` and `taxRateBps` (owner only) set how checkout taxes the shop's " +
    "prices; orders already made keep their tax. Audited as `shop.updated` with the old and " +
    "new values.",
  request: { params: IdParam, body: json(named(shopSettingsInput, "UpdateShopInput")) },
  responses: {
    200: ok("The shop after the change", ShopSettingsSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const read = createRoute({
  ...base,
  method: "get",
  path: "/{id}/settings",
  summary: "A shop's settings (any member): contacts, time zone, delivery fee rules",
  request: { params: IdParam },
  responses: {
    200: ok("The shop with its settings", ShopSettingsSchema),
    ...problems(401, 404, 422),
  },
});

/** `PATCH /v1/shops/{id}`: the owner (and, for operational fields, a manager) edits the shop. */
export const shopSettingsRoutes = createRouter().openapi(update, async (c) =>
  c.json(
    await updateShopSettings(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("param").id,
      c.req.valid("json"),
    ),
    200,
  ),
);

/** `GET /v1/seller/shops/{id}/settings`. */
export const sellerShopSettingsRoutes = createRouter().openapi(read, async (c) =>
  c.json(await getShopSettings(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
);
