import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { createRouter } from "../../http/app.ts";
import type { AppEnv } from "../../http/context.ts";
import { authenticate, requireAuth } from "../../http/middleware/auth.ts";
import { REPLAYED_HEADER, requireIdempotencyKey } from "../../http/middleware/idempotency.ts";
import { serviceContext } from "../../http/service-context.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import { confirmCheckout } from "../../services/checkout/confirm.ts";
import { checkoutInput } from "../../services/checkout/plan.ts";
import { previewCheckout } from "../../services/checkout/preview.ts";
import { bearer, json, ok, problems } from "../schemas.ts";
import { CheckoutPreviewSchema, ConfirmedCheckoutSchema, IdempotencyHeaders } from "./schema.ts";

/** Confirms per user: the "checkout" limit (each one reserves stock and calls Stripe). */
const checkoutLimit = createMiddleware<AppEnv>(async (c, next) => {
  await enforceLimit(c.get("services").redis, "checkout", c.get("user").id);
  await next();
});

// Service schemas are plain zod: one built before @hono/zod-openapi is loaded (a test importing
// the service first) has no `.openapi()`, so they are used as they are, unnamed.
const CheckoutBody = checkoutInput;

const preview = createRoute({
  method: "post",
  path: "/preview",
  tags: ["checkout"],
  security: bearer,
  middleware: [requireAuth],
  summary: "Price the cart: per-shop subtotal, delivery, platform fee, totals, stock warnings",
  description:
    "Give one fulfilment entry per shop in the cart: `delivery` with one of your address ids, " +
    "or `pickup` with a branch location id of that shop. Prices come from the catalog now. " +
    "Holds nothing. A cart of several currencies is a 409 (one checkout, one currency). " +
    "Buy now: with `items` (product ids and quantities), exactly those products are priced " +
    "instead of the cart, which is not read; a product you cannot see is a 422 naming its entry.",
  request: { body: json(CheckoutBody) },
  responses: {
    200: ok("The preview", CheckoutPreviewSchema),
    ...problems(401, 403, 409, 422),
  },
});

const confirm = createRoute({
  method: "post",
  path: "/confirm",
  tags: ["checkout"],
  security: bearer,
  // Confirm checks the buyer (blocked, deleted) in its one Postgres write, at the moment the
  // purchase commits: the revocation set's Redis read would add nothing but a call's CPU.
  middleware: [authenticate({ standing: "token" }), checkoutLimit, requireIdempotencyKey] as const,
  summary: "Reserve the stock, create the orders and one PaymentIntent",
  description:
    "The preview's body (plus optionally `expectedTotalMinor`: 409 if the total changed). All " +
    "lines are reserved or none (409 INSUFFICIENT_STOCK names the short lines); one order per " +
    "shop in `pending_payment` until the payment deadline; one PaymentIntent for the total. " +
    "If Stripe fails, nothing is charged, the orders are cancelled, the items go back to the " +
    "cart: 402 PAYMENT_FAILED. Buy now: with `items`, exactly those products are bought and " +
    "the cart is left as it is (neither emptied nor refilled).",
  request: { headers: IdempotencyHeaders, body: json(CheckoutBody) },
  responses: {
    201: ok("Orders created; pay with the client secret", ConfirmedCheckoutSchema),
    ...problems(400, 401, 402, 403, 409, 422, 429),
  },
});

/** `/v1/checkout`: preview and confirm the signed-in user's cart. */
export const checkoutRoutes = createRouter()
  .openapi(preview, async (c) =>
    c.json(await previewCheckout(serviceContext(c), c.var.user.id, c.req.valid("json")), 200),
  )
  .openapi(confirm, async (c) => {
    const { checkout, replayed } = await confirmCheckout(
      serviceContext(c),
      c.var.user.id,
      c.req.valid("json"),
      c.var.idempotencyKey,
    );
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(checkout, 201);
  });
