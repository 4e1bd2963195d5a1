import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { cancelInput, cancelOrder, markReceived } from "../../services/orders/buyer.ts";
import { getBuyerOrder, listBuyerOrders } from "../../services/orders/queries.ts";
import { bearer, ok, problems } from "../schemas.ts";
import { orderFeedbackRoutes } from "./feedback.ts";
import { orderPayRoutes } from "./pay.ts";
import { ListQuery, OrderDetailSchema, OrderIdParam, OrderPageSchema } from "./schema.ts";

const base = { tags: ["orders"], security: bearer, middleware: [requireAuthWhileBlocked] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your orders, newest first",
  request: { query: ListQuery },
  responses: { 200: ok("A page of orders", OrderPageSchema), ...problems(401, 422) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One of your orders with its lines, shop and refunds",
  description: "Another buyer's order is a 404.",
  request: { params: OrderIdParam },
  responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 404, 422) },
});

const cancel = createRoute({
  ...base,
  method: "post",
  path: "/{id}/cancel",
  summary: "Cancel before picking starts",
  description:
    "Unpaid: the order is `cancelled`, its stock holds are released, and the PaymentIntent is " +
    "cancelled when no other order of the checkout is still payable (a payment that gets " +
    "through anyway is refunded automatically). Paid: `cancelled`, refunded in full through " +
    "Stripe (the shop's transfer reversed), stock put back; `refunded` once Stripe confirms. " +
    "Once a seller has started picking (or later), 409 naming the current state.",
  request: {
    params: OrderIdParam,
    body: {
      content: {
        "application/json": {
          schema: z.object(cancelInput.shape).openapi("CancelOrderInput"),
        },
      },
      required: false,
    },
  },
  responses: { 200: ok("Cancelled", OrderDetailSchema), ...problems(401, 404, 409, 422) },
});

const received = createRoute({
  ...base,
  method: "post",
  path: "/{id}/received",
  summary: "Confirm the order arrived: shipped → delivered",
  request: { params: OrderIdParam },
  responses: { 200: ok("Delivered", OrderDetailSchema), ...problems(401, 404, 409, 422) },
});

/** `/v1/orders`: the signed-in buyer's orders. */
export const orderRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(
      await listBuyerOrders(c.get("services").db, c.get("user").id, c.req.valid("query")),
      200,
    ),
  )
  .openapi(get, async (c) =>
    c.json(
      await getBuyerOrder(c.get("services").db, c.get("user").id, c.req.valid("param").id),
      200,
    ),
  )
  .openapi(cancel, async (c) =>
    c.json(
      await cancelOrder(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json") ?? {},
      ),
      200,
    ),
  )
  .openapi(received, async (c) =>
    c.json(await markReceived(serviceContext(c), c.get("user").id, c.req.valid("param").id), 200),
  )
  .route("/", orderPayRoutes)
  .route("/", orderFeedbackRoutes);
