import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  createPlatformFeedback,
  editFeedbackInput,
  editOrderFeedback,
  platformFeedbackInput,
  replyFeedbackInput,
  replyToFeedback,
} from "../../services/feedback/feedback.ts";
import { named } from "../auctions/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { FeedbackSchema, PlatformFeedbackSchema } from "./schema.ts";

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
