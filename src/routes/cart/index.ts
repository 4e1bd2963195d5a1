import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  addCartItem,
  addCartItemInput,
  getCart,
  removeCartItem,
  setCartItemInput,
  setCartItemQuantity,
} from "../../services/cart/cart.ts";
import { bearer, json, ok, problems } from "../schemas.ts";
import { CartSchema, ProductIdParam } from "./schema.ts";

const base = { tags: ["cart"], security: bearer, middleware: [requireAuth] };

const getCartRoute = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your cart: current prices, live availability, flags on lines that went away",
  responses: { 200: ok("The cart", CartSchema), ...problems(401) },
});

const addItem = createRoute({
  ...base,
  method: "post",
  path: "/items",
  summary: "Add a product (or more units of it)",
  description:
    "Only published fixed-price products of visible shops. The line's new quantity must be " +
    "available now (409 INSUFFICIENT_STOCK with `available`); an auction listing is a 409.",
  request: { body: json(addCartItemInput) },
  responses: { 200: ok("The cart", CartSchema), ...problems(401, 403, 404, 409, 422, 503) },
});

const setItem = createRoute({
  ...base,
  method: "patch",
  path: "/items/{productId}",
  summary: "Set a line's quantity",
  request: { params: ProductIdParam, body: json(setCartItemInput) },
  responses: { 200: ok("The cart", CartSchema), ...problems(401, 403, 404, 409, 422, 503) },
});

const removeItem = createRoute({
  ...base,
  method: "delete",
  path: "/items/{productId}",
  summary: "Remove a line (flagged ones too)",
  request: { params: ProductIdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 404, 422) },
});

/** `/v1/cart`: one active cart per signed-in user, created on first add. */
export const cartRoutes = createRouter()
  .openapi(getCartRoute, async (c) => c.json(await getCart(serviceContext(c), c.var.user.id), 200))
  .openapi(addItem, async (c) =>
    c.json(await addCartItem(serviceContext(c), c.var.user.id, c.req.valid("json")), 200),
  )
  .openapi(setItem, async (c) => {
    const { productId } = c.req.valid("param");
    return c.json(
      await setCartItemQuantity(serviceContext(c), c.var.user.id, productId, c.req.valid("json")),
      200,
    );
  })
  .openapi(removeItem, async (c) => {
    await removeCartItem(serviceContext(c), c.var.user.id, c.req.valid("param").productId);
    return c.body(null, 204);
  });
