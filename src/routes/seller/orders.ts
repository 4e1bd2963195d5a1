import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { decideLine, shipInput, shipOrder } from "../../services/orders/fulfilment.ts";
import { getShopOrder, listShopOrders } from "../../services/orders/queries.ts";
import { refundBySeller } from "../../services/orders/refunds.ts";
import {
  ListQuery,
  OrderDetailSchema,
  OrderIdParam,
  OrderItemParams,
  OrderPageSchema,
  RefundBody,
  RefundHeaders,
} from "../orders/schema.ts";
import { bearer, json, ok, problems } from "../schemas.ts";

const base = { tags: ["seller orders"], security: bearer, middleware: [requireAuthWhileBlocked] };
const members = "Any member of the order's shop (staff included); anyone else gets 404.";

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "A shop's orders, newest first",
  description: members,
  request: { query: ListQuery.extend({ shopId: z.uuid().openapi({ description: "The shop." }) }) },
  responses: { 200: ok("A page of orders", OrderPageSchema), ...problems(401, 404, 422) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One order of your shop with its lines and refunds",
  description: members,
  request: { params: OrderIdParam },
  responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 404, 422) },
});

const decide = (decision: "picked" | "missing") =>
  createRoute({
    ...base,
    method: "post",
    path: `/{id}/items/{itemId}/${decision}`,
    summary:
      decision === "picked"
        ? "Mark a line picked"
        : "Mark a line missing: it is refunded through Stripe, exactly once",
    description:
      `${members} The first decided line moves the order paid → picking; when every line is ` +
      "decided the order is `ready` (or, every line missing, refunded in full with its " +
      "delivery fee). A missing line is refunded for unit price × quantity, once however often " +
      "it is asked or Stripe reports it. Deciding a line again the same way changes nothing; " +
      "the other way, or on an order not paid or being picked, 409.",
    request: { params: OrderItemParams },
    responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 404, 409, 422) },
  });

const ship = createRoute({
  ...base,
  method: "post",
  path: "/{id}/ship",
  summary: "Ship a ready order with carrier and tracking number (owner, manager)",
  description:
    "ready → shipped; the buyer is notified. Staff get 403, non-members 404, any other state 409.",
  request: {
    params: OrderIdParam,
    body: json(z.object(shipInput.shape).openapi("ShipOrderInput")),
  },
  responses: { 200: ok("Shipped", OrderDetailSchema), ...problems(401, 403, 404, 409, 422) },
});

const refund = createRoute({
  ...base,
  method: "post",
  path: "/{id}/refunds",
  summary: "Refund part or all of a paid order (owner, manager)",
  description:
    "Through Stripe on the checkout's PaymentIntent; then the shop's transfer is reversed by " +
    "round(refund × shop share / order total), so the platform returns its fee in the same " +
    "proportion. More than what remains unrefunded: 409. `charge.refunded` confirms it.",
  request: { params: OrderIdParam, headers: RefundHeaders, body: json(RefundBody) },
  responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/seller/orders`: fulfilment for members of the order's shop. */
export const sellerOrderRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listShopOrders(c.get("services").db, c.get("user").id, c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(
      await getShopOrder(c.get("services").db, c.get("user").id, c.req.valid("param").id),
      200,
    ),
  )
  .openapi(decide("picked"), async (c) => {
    const { id, itemId } = c.req.valid("param");
    return c.json(await decideLine(serviceContext(c), c.get("user").id, id, itemId, "picked"), 200);
  })
  .openapi(decide("missing"), async (c) => {
    const { id, itemId } = c.req.valid("param");
    return c.json(
      await decideLine(serviceContext(c), c.get("user").id, id, itemId, "missing"),
      200,
    );
  })
  .openapi(ship, async (c) =>
    c.json(
      await shipOrder(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  )
  .openapi(refund, async (c) =>
    c.json(
      await refundBySeller(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json"),
        c.req.valid("header")["idempotency-key"],
      ),
      200,
    ),
  );
