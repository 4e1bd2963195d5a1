import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth, requireRole } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { refundByAdmin } from "../../services/orders/refunds.ts";
import { bearer, problems } from "../schemas.ts";
import { OrderDetailSchema, OrderIdParam, RefundBody, RefundHeaders } from "./schema.ts";

const refund = createRoute({
  tags: ["admin"],
  security: bearer,
  middleware: [requireAuth, requireRole("admin")],
  method: "post",
  path: "/{id}/refunds",
  summary: "Refund part or all of any paid order (admin)",
  description:
    "As the shop's refund: Stripe refund on the checkout's PaymentIntent, the shop's transfer " +
    "reversed by round(refund × shop share / order total); more than remains, 409.",
  request: {
    params: OrderIdParam,
    headers: RefundHeaders,
    body: { content: { "application/json": { schema: RefundBody } }, required: true },
  },
  responses: {
    200: {
      description: "The order",
      content: { "application/json": { schema: OrderDetailSchema } },
    },
    ...problems(401, 403, 404, 409, 422),
  },
});

/** `/v1/admin/orders`: refunds by an admin. */
export const adminOrderRoutes = createRouter().openapi(refund, async (c) =>
  c.json(
    await refundByAdmin(
      serviceContext(c),
      c.get("user").id,
      c.req.valid("param").id,
      c.req.valid("json"),
      c.req.valid("header")["idempotency-key"],
    ),
    200,
  ),
);
