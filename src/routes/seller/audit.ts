import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { listShopAudit, SHOP_AUDIT_ENTITIES } from "../../services/admin/audit.ts";
import { AuditPage } from "../admin/audit.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";

const list = createRoute({
  tags: ["shops"],
  security: bearer,
  middleware: [requireAuth],
  method: "get",
  path: "/{id}/audit",
  summary: "Your shop's audit trail, newest first (owner, manager)",
  description:
    "The audit rows of the shop itself (review, verification, payouts, team and invitations) " +
    "and of what it owns: its products, their stock movements, its stock requests, orders, " +
    "order lines and auctions. Not checkouts, conversations, feedback or complaints. Staff get " +
    "403; anyone outside the shop 404.",
  request: {
    params: IdParam,
    query: pageQuery.extend({
      action: text().trim().min(1).max(128).optional().openapi({
        description: "Exact (`order.cancelled`) or a prefix ending in `.` or `*` (`stock.`).",
      }),
      entityType: z.enum(SHOP_AUDIT_ENTITIES).optional(),
      since: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "Only rows from this instant on (inclusive)." }),
    }),
  },
  responses: {
    200: ok("A page of the shop's audit rows", AuditPage),
    ...problems(401, 403, 404, 422),
  },
});

/** `/v1/seller/shops/{id}/audit`: who changed what in a shop, for its owners and managers. */
export const sellerShopAuditRoutes = createRouter().openapi(list, async (c) => {
  const { since, ...q } = c.req.valid("query");
  const page = await listShopAudit(serviceContext(c), c.var.user.id, c.req.valid("param").id, {
    ...q,
    since: since ? new Date(since) : undefined,
  });
  return c.json(page, 200);
});
