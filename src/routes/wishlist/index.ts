import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  addToWishlist,
  addWishlistInput,
  listWishlist,
  removeFromWishlist,
} from "../../services/wishlist/wishlist.ts";
import { AvailabilitySchema, ProductIdParam, ShopRefSchema } from "../cart/schema.ts";
import { bearer, json, ok, problems } from "../schemas.ts";

const WishlistItemSchema = z
  .object({
    productId: z.uuid(),
    title: z.string(),
    imageUrl: z.string().nullable(),
    priceMinor: z.number().int().openapi({ description: "Current price, integer minor units." }),
    currency: z.string(),
    listingType: z.enum(["fixed", "auction"]),
    shop: ShopRefSchema,
    availability: AvailabilitySchema,
    addedAt: z.iso.datetime(),
  })
  .openapi("WishlistItem");
const WishlistPage = z.object({
  items: z.array(WishlistItemSchema),
  nextCursor: z.string().nullable(),
});

const base = { tags: ["wishlist"], security: bearer, middleware: [requireAuth] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your wishlist, newest first, with current prices and availability",
  description:
    "Products that are no longer visible (unpublished, deleted, or their shop hidden) are left " +
    "out, not flagged; they come back if the product does.",
  request: { query: pageQuery },
  responses: { 200: ok("A page of the wishlist", WishlistPage), ...problems(401, 422) },
});

const add = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Add a product (fixed-price or auction); adding it again changes nothing",
  request: { body: json(addWishlistInput) },
  responses: {
    200: ok("Already on the wishlist", WishlistItemSchema),
    201: ok("Added", WishlistItemSchema),
    ...problems(401, 404, 422),
  },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{productId}",
  summary: "Remove a product from the wishlist",
  request: { params: ProductIdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 404, 422) },
});

/** `/v1/wishlist`: products a signed-in user wants to keep an eye on. */
export const wishlistRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listWishlist(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(add, async (c) => {
    const { created, item } = await addToWishlist(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("json"),
    );
    return created ? c.json(item, 201) : c.json(item, 200);
  })
  .openapi(remove, async (c) => {
    await removeFromWishlist(serviceContext(c), c.var.user.id, c.req.valid("param").productId);
    return c.body(null, 204);
  });
