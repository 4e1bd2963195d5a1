import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { listAudit } from "../../services/admin/audit.ts";
import { ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    at: z.iso.datetime(),
    actorId: z.uuid().nullable(),
    actorType: z.string().openapi({ example: "user" }),
    action: z.string().openapi({ example: "order.cancelled" }),
    entityType: z.string().openapi({ example: "order" }),
    entityId: z.string(),
    oldValue: z.unknown(),
    newValue: z.unknown(),
    requestId: z.string().nullable(),
  })
  .openapi("AuditEntry");

export const AuditPage = z
  .object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() })
  .openapi("AuditPage");

const AuditQuery = pageQuery
  .extend({
    actorId: z.uuid().optional(),
    entityType: text().min(1).max(64).optional(),
    entityId: text().min(1).max(200).optional(),
    action: text().min(1).max(128).optional().openapi({
      description: "Exact (`order.cancelled`) or a prefix ending in `.` or `*` (`order.`).",
    }),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: "Inclusive." }),
    to: z.iso.datetime({ offset: true }).optional().openapi({ description: "Inclusive." }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    message: "must not be before `from`",
    path: ["to"],
  });

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "The audit log, newest first, with filters (rows are append-only in Postgres)",
  request: { query: AuditQuery },
  responses: { 200: ok("A page of audit rows", AuditPage), ...problems(401, 403, 422) },
});

/** `/v1/admin/audit`: who changed what, for admins only. */
export const adminAuditRoutes = createRouter().openapi(list, async (c) => {
  const { from, to, ...q } = c.req.valid("query");
  const page = await listAudit(serviceContext(c), {
    ...q,
    from: from ? new Date(from) : undefined,
    to: to ? new Date(to) : undefined,
  });
  return c.json(page, 200);
});
