import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  listTaxRates,
  removeTaxRate,
  setTaxRate,
  taxRateInput,
} from "../../services/shops/tax-rates.ts";
import { bearer, IdParam, json, named, ok, problems } from "../schemas.ts";

const CategoryTaxRateSchema = z
  .object({
    categoryId: z.uuid(),
    categoryName: z.string(),
    rateBps: z.number().int().openapi({ description: "Basis points: 1700 = 17%.", example: 800 }),
    updatedAt: z.iso.datetime(),
  })
  .openapi("CategoryTaxRate");

const ShopTaxRatesSchema = z
  .object({
    shopId: z.uuid(),
    pricesIncludeTax: z.boolean(),
    defaultRateBps: z.number().int().openapi({
      description: "The shop's default rate (`PATCH /v1/shops/{id}` `taxRateBps`).",
    }),
    categories: z.array(CategoryTaxRateSchema).openapi({
      description: "Categories taxed at a rate of their own in this shop, by name.",
    }),
  })
  .openapi("ShopTaxRates");

const RateParams = IdParam.extend({
  categoryId: z.uuid().openapi({ param: { name: "categoryId", in: "path" } }),
});

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/{id}/tax-rates",
  summary: "A shop's tax settings and its rates per category (any member)",
  request: { params: IdParam },
  responses: {
    200: ok("The shop's tax settings", ShopTaxRatesSchema),
    ...problems(401, 404, 422),
  },
});

const put = createRoute({
  ...base,
  method: "put",
  path: "/{id}/tax-rates/{categoryId}",
  summary: "Set the tax rate of one category in the shop (owner)",
  description:
    "The shop's products filed directly in this category are taxed at this rate instead of " +
    "the shop's default (a subcategory needs its own). Checkout uses it from now on; orders " +
    "already made keep their tax. Managers and staff get 403, anyone outside the shop 404, " +
    "an unknown category 404. Audited as `shop.tax_rate_set` with the old and new rate.",
  request: { params: RateParams, body: json(named(taxRateInput, "TaxRateInput")) },
  responses: {
    200: ok("The category's rate", CategoryTaxRateSchema),
    ...problems(401, 403, 404, 422),
  },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{id}/tax-rates/{categoryId}",
  summary: "Remove a category's own tax rate (owner): back to the shop's default",
  description: "404 when the category has no rate of its own. Audited as `shop.tax_rate_removed`.",
  request: { params: RateParams },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 422) },
});

/** `/v1/seller/shops/{id}/tax-rates`: the shop's tax rates per category. */
export const sellerTaxRateRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listTaxRates(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(put, async (c) => {
    const { id, categoryId } = c.req.valid("param");
    return c.json(
      await setTaxRate(serviceContext(c), c.var.user.id, id, categoryId, c.req.valid("json")),
      200,
    );
  })
  .openapi(remove, async (c) => {
    const { id, categoryId } = c.req.valid("param");
    await removeTaxRate(serviceContext(c), c.var.user.id, id, categoryId);
    return c.body(null, 204);
  });
