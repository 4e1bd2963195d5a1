import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { payAuctionOrder, payInput } from "../../services/orders/pay.ts";
import { named } from "../auctions/schema.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";

const AuctionPaymentSchema = z
  .object({
    orderId: z.uuid(),
    checkoutId: z.uuid(),
    paymentIntentId: z.string(),
    clientSecret: z.string().openapi({
      description: "Confirm the payment in the browser with Stripe.js / the Payment Element.",
    }),
    amountMinor: z.number().int(),
    currency: z.string(),
    paymentDeadline: z.iso.datetime(),
  })
  .openapi("AuctionPayment");

const pay = createRoute({
  method: "post",
  path: "/{id}/pay",
  tags: ["orders"],
  security: bearer,
  middleware: [requireAuthWhileBlocked],
  summary: "Pay an auction order (a win, a buy-now, an accepted second chance)",
  description:
    "Creates (or, called again, returns) the order's checkout and its one Stripe " +
    "PaymentIntent; the payment webhook marks the order paid. `addressId` (one of yours) is " +
    "required the first time: it is where the item goes. Another buyer's order is a 404; an " +
    "order no longer awaiting payment, or past its deadline, a 409. Unpaid at the deadline, the " +
    "order expires and counts as a strike.",
  request: {
    params: IdParam,
    body: {
      content: { "application/json": { schema: named(payInput, "PayAuctionOrderInput") } },
      required: false,
    },
  },
  responses: {
    200: ok("Pay with the client secret", AuctionPaymentSchema),
    ...problems(401, 402, 404, 409, 422),
  },
});

/** `POST /v1/orders/{id}/pay` for auction orders (cart orders are paid at checkout confirm). */
export const orderPayRoutes = createRouter().openapi(pay, async (c) => {
  const body = c.req.valid("json") ?? {};
  return c.json(
    await payAuctionOrder(serviceContext(c), c.get("user").id, c.req.valid("param").id, body),
    200,
  );
});
