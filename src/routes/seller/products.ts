import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  createProduct,
  createProductInput,
  deleteProduct,
  getShopProduct,
  listShopProducts,
  setProductStatus,
  updateProduct,
  updateProductInput,
} from "../../services/catalog/products.ts";
import {
  named,
  ProductStatusSchema,
  SellerProductPageSchema,
  SellerProductSchema,
} from "../catalog/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";

// No account-role check: shop membership decides (a manager may be any kind of account).
const base = { tags: ["seller catalog"], security: bearer, middleware: [requireAuth] };

const SellerListQuery = pageQuery.extend({
  shopId: z.uuid().openapi({ description: "The shop whose products to list." }),
  status: ProductStatusSchema.optional(),
});

const CreateBody = named(
  createProductInput,
  "ProductInput",
  "The price is in minor units of the shop's currency, which the server sets. `status: " +
    "published` publishes at once (the shop's payouts must be enabled).",
);
const UpdateBody = named(
  updateProductInput,
  "ProductUpdate",
  "Any subset of the fields. `status` publishes or unpublishes; `listingType` cannot change " +
    "once published.",
);

const permissions =
  "Owner and manager of the shop; staff get 403; anyone else 404, as if it did not exist.";

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "A shop's products, drafts included, newest first (owner, manager, staff)",
  request: { query: SellerListQuery },
  responses: {
    200: ok("A page of products", SellerProductPageSchema),
    ...problems(401, 403, 404, 422),
  },
});

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Create a product (draft unless `status: published`)",
  description: permissions,
  request: { body: json(CreateBody) },
  responses: {
    201: ok("Created", SellerProductSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const getOne = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One of your shop's products (owner, manager, staff)",
  request: { params: IdParam },
  responses: { 200: ok("The product", SellerProductSchema), ...problems(401, 403, 404, 422) },
});

const patch = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  summary: "Change a product; `status` publishes or unpublishes it",
  description: permissions,
  request: { params: IdParam, body: json(UpdateBody) },
  responses: {
    200: ok("The product", SellerProductSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{id}",
  summary: "Remove a product (soft delete; its SKU becomes free)",
  description: permissions,
  request: { params: IdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 422) },
});

const publish = createRoute({
  ...base,
  method: "post",
  path: "/{id}/publish",
  summary: "Publish a product; the shop's payouts must be enabled (else 409)",
  description: permissions,
  request: { params: IdParam },
  responses: {
    200: ok("The product", SellerProductSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const unpublish = createRoute({
  ...base,
  method: "post",
  path: "/{id}/unpublish",
  summary: "Take a product back to draft; buyers stop seeing it",
  description: permissions,
  request: { params: IdParam },
  responses: {
    200: ok("The product", SellerProductSchema),
    ...problems(401, 403, 404, 422),
  },
});

/** `/v1/seller/products`: a shop team's catalog, audited, invalidating the public cache. */
export const sellerProductRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listShopProducts(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(create, async (c) =>
    c.json(await createProduct(serviceContext(c), c.var.user.id, c.req.valid("json")), 201),
  )
  .openapi(getOne, async (c) =>
    c.json(await getShopProduct(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(
      await updateProduct(serviceContext(c), c.var.user.id, id, c.req.valid("json")),
      200,
    );
  })
  .openapi(remove, async (c) => {
    await deleteProduct(serviceContext(c), c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(publish, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await setProductStatus(serviceContext(c), c.var.user.id, id, "published"), 200);
  })
  .openapi(unpublish, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await setProductStatus(serviceContext(c), c.var.user.id, id, "draft"), 200);
  });
