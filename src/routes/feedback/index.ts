import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  createOrderFeedback,
  createPlatformFeedback,
  editFeedbackInput,
  editOrderFeedback,
  listShopFeedback,
  orderFeedbackInput,
  platformFeedbackInput,
  replyFeedbackInput,
  replyToFeedback,
} from "../../services/feedback/feedback.ts";
import { named } from "../auctions/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { FeedbackSchema, PlatformFeedbackSchema, ShopFeedbackPage } from "./schema.ts";

const base = { tags: ["feedback"], security: bearer, middleware: [requireAuth] };

const platform = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Feedback about Souk itself, from any signed-in user",
  request: { body: json(named(platformFeedbackInput, "PlatformFeedbackInput")) },
  responses: { 201: ok("Thanks", PlatformFeedbackSchema), ...problems(401, 422) },
});

const edit = createRoute({
  ...base,
  method: "patch",
  path: "/orders/{id}",
  summary: "Change your rating or comment, within 7 days of leaving it",
  request: { params: IdParam, body: json(named(editFeedbackInput, "EditFeedbackInput")) },
  responses: { 200: ok("Changed", FeedbackSchema), ...problems(401, 404, 409, 422) },
});

const reply = createRoute({
  ...base,
  method: "post",
  path: "/orders/{id}/reply",
  summary: "The shop's one reply (owner or manager)",
  request: { params: IdParam, body: json(named(replyFeedbackInput, "ReplyFeedbackInput")) },
  responses: { 200: ok("Replied", FeedbackSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/feedback`: platform feedback; order feedback is edited and replied to here. */
export const feedbackRoutes = createRouter()
  .openapi(platform, async (c) =>
    c.json(await createPlatformFeedback(serviceContext(c), c.req.valid("json")), 201),
  )
  .openapi(edit, async (c) =>
    c.json(
      await editOrderFeedback(serviceContext(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    ),
  )
  .openapi(reply, async (c) =>
    c.json(
      await replyToFeedback(serviceContext(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    ),
  );

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

/** `/v1/orders/{id}/feedback`: the buyer rates their delivered order (mounted beside orders). */
export const orderFeedbackRoutes = createRouter().openapi(create, async (c) =>
  c.json(
    await createOrderFeedback(serviceContext(c), {
      ...c.req.valid("json"),
      orderId: c.req.valid("param").id,
    }),
    201,
  ),
);

const shopList = createRoute({
  tags: ["feedback"],
  method: "get",
  path: "/{id}/feedback",
  summary: "A visible shop's feedback, newest first, with the average and distribution",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of feedback", ShopFeedbackPage), ...problems(404, 422) },
});

/** `/v1/shops/{id}/feedback`: public, for visible shops only. */
export const shopFeedbackRoutes = createRouter().openapi(shopList, async (c) =>
  c.json(
    await listShopFeedback(serviceContext(c), c.req.valid("param").id, c.req.valid("query")),
    200,
  ),
);
