import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { createOrderFeedback, orderFeedbackInput } from "../../services/feedback/feedback.ts";
import { named } from "../auctions/schema.ts";
import { FeedbackSchema } from "../feedback/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";

const base = { tags: ["feedback"], security: bearer, middleware: [requireAuth] };

const create = createRoute({
  ...base,
  method: "post",
  path: "/{id}/feedback",
  summary: "Rate a delivered order of yours (once; editable for 7 days)",
  request: {
    params: IdParam,
    body: json(named(orderFeedbackInput.omit({ orderId: true }), "OrderFeedbackInput")),
  },
  responses: { 201: ok("Left", FeedbackSchema), ...problems(401, 404, 409, 422) },
});

/** `/v1/orders/{id}/feedback`: the buyer rates their delivered order . */
export const orderFeedbackRoutes = createRouter().openapi(create, async (c) =>
  c.json(
    await createOrderFeedback(serviceContext(c), {
      ...c.req.valid("json"),
      orderId: c.req.valid("param").id,
    }),
    201,
  ),
);
