import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { getOrderForAdmin, listOrdersForAdmin } from "../../services/orders/queries.ts";
import { refundByAdmin } from "../../services/orders/refunds.ts";
import {
  ListQuery,
  OrderDetailSchema,
  OrderIdParam,
  OrderPageSchema,
  RefundBody,
  RefundHeaders,
} from "../orders/schema.ts";
import { json, ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const instant = (description: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({ description });

const AdminOrderQuery = ListQuery.extend({
  shopId: z.uuid().optional().openapi({ description: "Only this shop's orders." }),
  buyerId: z.uuid().optional().openapi({ description: "Only this buyer's orders." }),
  from: instant("Placed at or after this instant."),
  to: instant("Placed at or before this instant."),
}).refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
  message: "must not be before `from`",
  path: ["to"],
});

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Every order on Souk, newest first: filters shop, status, buyer, placed between",
  description:
    "Filters combine (`shopId`, `buyerId`, `status`, `from`/`to` on when the order was placed, " +
    "both inclusive); keyset cursor like the other admin lists.",
  request: { query: AdminOrderQuery },
  responses: { 200: ok("A page of orders", OrderPageSchema), ...problems(401, 403, 422) },
});

const get = createRoute({
  ...adminOnly,
  method: "get",
  path: "/{id}",
  summary: "Any order with its lines and refunds",
  request: { params: OrderIdParam },
  responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 403, 404, 422) },
});

const at = (s: string | undefined) => (s ? new Date(s) : undefined);

/** `/v1/admin/orders` reads: every order, whichever shop or buyer (refunds live in orders/admin). */
const refund = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/refunds",
  summary: "Refund part or all of any paid order (admin)",
  description:
    "As the shop's refund: Stripe refund on the checkout's PaymentIntent, the shop's transfer " +
    "reversed by round(refund × shop share / order total); more than remains, 409.",
  request: { params: OrderIdParam, headers: RefundHeaders, body: json(RefundBody) },
  responses: { 200: ok("The order", OrderDetailSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/admin/orders`: every order, filtered; one order; refunds by an admin. */
export const adminOrderRoutes = createRouter()
  .openapi(list, async (c) => {
    const { from, to, ...q } = c.req.valid("query");
    const page = await listOrdersForAdmin(c.get("services").db, {
      ...q,
      from: at(from),
      to: at(to),
    });
    return c.json(page, 200);
  })
  .openapi(get, async (c) =>
    c.json(await getOrderForAdmin(c.get("services").db, c.req.valid("param").id), 200),
  )
  .openapi(refund, async (c) =>
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
