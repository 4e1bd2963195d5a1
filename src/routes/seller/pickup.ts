import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { collectInput, collectOrder, markReadyForPickup } from "../../services/orders/pickup.ts";
import { OrderDetailSchema, OrderIdParam } from "../orders/schema.ts";
import { bearer, json, ok, problems } from "../schemas.ts";

const base = { tags: ["seller orders"], security: bearer, middleware: [requireAuthWhileBlocked] };

const ready = createRoute({
  ...base,
  method: "post",
  path: "/{id}/ready-for-pickup",
  summary:
    "A picked pickup order is ready at its branch; the buyer gets the pickup code (owner, manager)",
  description:
    "ready → ready_for_pickup for an order with method `pickup` (a delivery order is a 409: " +
    "ship it). The buyer is notified, in the app and by email, with a 6-digit pickup code and " +
    "the branch's address and opening hours; the code is never in this answer. On an order " +
    "already ready for pickup, a new code replaces the old one and is sent (after five wrong " +
    "tries void it, or when the buyer lost it). No carrier or tracking number. Staff get 403, " +
    "non-members 404, any other state 409.",
  request: { params: OrderIdParam },
  responses: {
    200: ok("Ready for pickup", OrderDetailSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const collect = createRoute({
  ...base,
  method: "post",
  path: "/{id}/collect",
  summary: "The buyer collected the order: staff enter the pickup code (owner, manager, staff)",
  description:
    "ready_for_pickup → collected when `code` is the order's pickup code; the buyer is then " +
    "asked, once, to rate the order (as after delivery). A wrong code is a 422 naming `code` " +
    "with the tries left; the fifth wrong try voids the code (then 409 until the order is " +
    "marked ready again, which sends a new one). At most 10 tries per order in 10 minutes " +
    "(429). Non-members 404, any other state 409.",
  request: {
    params: OrderIdParam,
    body: json(z.object(collectInput.shape).openapi("CollectOrderInput")),
  },
  responses: {
    200: ok("Collected", OrderDetailSchema),
    ...problems(401, 404, 409, 422, 429, 503),
  },
});

/** `/v1/seller/orders/{id}/…`: pickup at a branch (ready for pickup, collected with the code). */
export const sellerPickupRoutes = createRouter()
  .openapi(ready, async (c) =>
    c.json(
      await markReadyForPickup(serviceContext(c), c.get("user").id, c.req.valid("param").id),
      200,
    ),
  )
  .openapi(collect, async (c) =>
    c.json(
      await collectOrder(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  );
