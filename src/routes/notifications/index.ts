import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { listNotifications, markNotificationRead } from "../../services/notifications/inbox.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";

const NotificationSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().openapi({ example: "shop.approved" }),
    title: z.string(),
    body: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
    readAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("Notification");
const NotificationPage = z
  .object({
    items: z.array(NotificationSchema),
    nextCursor: z.string().nullable(),
    unreadCount: z.number().int().openapi({ description: "Unread notifications in all." }),
  })
  .openapi("NotificationPage");
const InboxQuery = pageQuery.extend({
  unread: z
    .enum(["true", "false"])
    .optional()
    .openapi({ description: "`true`: only unread notifications." }),
});
const base = { tags: ["notifications"], security: bearer, middleware: [requireAuthWhileBlocked] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your notifications, newest first, with the unread count",
  request: { query: InboxQuery },
  responses: { 200: ok("A page of notifications", NotificationPage), ...problems(401, 422) },
});

const read = createRoute({
  ...base,
  method: "post",
  path: "/{id}/read",
  summary: "Mark one of your notifications read (idempotent)",
  request: { params: IdParam },
  responses: { 200: ok("Read", NotificationSchema), ...problems(401, 404, 422) },
});

/** `/v1/notifications`: the signed-in user's in-app inbox. */
export const notificationRoutes = createRouter()
  .openapi(list, async (c) => {
    const { unread, ...page } = c.req.valid("query");
    const result = await listNotifications(serviceContext(c), c.var.user.id, {
      ...page,
      unread: unread === "true",
    });
    return c.json(result, 200);
  })
  .openapi(read, async (c) =>
    c.json(
      await markNotificationRead(serviceContext(c), c.var.user.id, c.req.valid("param").id),
      200,
    ),
  );
