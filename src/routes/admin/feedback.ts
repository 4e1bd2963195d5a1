import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { listPlatformFeedback } from "../../services/admin/feedback.ts";
import { PlatformFeedbackSchema } from "../feedback/schema.ts";
import { ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const AdminPlatformFeedbackSchema = PlatformFeedbackSchema.extend({
  userId: z.uuid().openapi({ description: "Who left it." }),
}).openapi("AdminPlatformFeedback");

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Feedback about Souk itself (`POST /v1/feedback`), newest first",
  request: {
    query: pageQuery.extend({
      rating: z.coerce.number().int().min(1).max(5).optional(),
      category: text().trim().min(1).max(64).optional().openapi({ example: "checkout" }),
      since: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "Only feedback from this instant on (inclusive)." }),
    }),
  },
  responses: {
    200: ok(
      "A page of platform feedback",
      z
        .object({ items: z.array(AdminPlatformFeedbackSchema), nextCursor: z.string().nullable() })
        .openapi("AdminPlatformFeedbackPage"),
    ),
    ...problems(401, 403, 422),
  },
});

/** `/v1/admin/feedback`: what users told us about Souk (shop feedback is public per shop). */
export const adminFeedbackRoutes = createRouter().openapi(list, async (c) => {
  const { since, ...q } = c.req.valid("query");
  const page = await listPlatformFeedback(serviceContext(c), {
    ...q,
    since: since ? new Date(since) : undefined,
  });
  return c.json(page, 200);
});
