import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { listUsersForAdmin } from "../../services/admin/users.ts";
import {
  blockInput,
  blockUser,
  getUserForAdmin,
  unblockInput,
  unblockUser,
} from "../../services/users/moderation.ts";
import { named } from "../auctions/schema.ts";
import { IdParam, json, ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const AdminUserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    displayName: z.string(),
    role: z.enum(["buyer", "seller", "admin"]),
    blocked: z.boolean(),
    blockedAt: z.iso.datetime().nullable(),
    blockedReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
    deletedAt: z.iso.datetime().nullable(),
    strikes: z.array(
      z.object({
        id: z.uuid(),
        orderId: z.uuid(),
        auctionId: z.uuid().nullable(),
        reason: z.string(),
        at: z.iso.datetime(),
      }),
    ),
    strikesWithinYear: z.number().int().openapi({
      description: "Unpaid auction wins in the last 12 months; two block bidding and buying.",
    }),
  })
  .openapi("AdminUser");

const AdminUserListItemSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    displayName: z.string(),
    role: z.enum(["buyer", "seller", "admin"]),
    blocked: z.boolean(),
    blockedAt: z.iso.datetime().nullable(),
    blockedReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
    deletedAt: z.iso.datetime().nullable(),
    strikeCount: z.number().int().openapi({ description: "Unpaid auction wins, all time." }),
  })
  .openapi("AdminUserListItem");

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Users, newest first: search by email or display name, filter by role and block",
  request: {
    query: pageQuery.extend({
      q: text().trim().min(1).max(200).optional().openapi({
        description: "A part of the email or the display name, case-insensitive.",
      }),
      role: z.enum(["buyer", "seller", "admin"]).optional(),
      blocked: z.enum(["true", "false"]).optional(),
    }),
  },
  responses: {
    200: ok(
      "A page of users",
      z
        .object({ items: z.array(AdminUserListItemSchema), nextCursor: z.string().nullable() })
        .openapi("AdminUserPage"),
    ),
    ...problems(401, 403, 422),
  },
});

const get = createRoute({
  ...adminOnly,
  method: "get",
  path: "/{id}",
  summary: "A user with block state and strike history",
  request: { params: IdParam },
  responses: { 200: ok("The user", AdminUserSchema), ...problems(401, 403, 404, 422) },
});

const block = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/block",
  summary: "Block a user: they may sign in, read, pay and answer, nothing else (audited)",
  request: { params: IdParam, body: json(named(blockInput, "BlockUserInput")) },
  responses: { 200: ok("Blocked", AdminUserSchema), ...problems(401, 403, 404, 409, 422) },
});

const unblock = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/unblock",
  summary: "Lift a block (audited); strikes stay on record",
  request: {
    params: IdParam,
    body: {
      content: { "application/json": { schema: named(unblockInput, "UnblockUserInput") } },
      required: false,
    },
  },
  responses: { 200: ok("Unblocked", AdminUserSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/admin/users`: moderation. Every change writes one audit row. */
export const adminUserRoutes = createRouter()
  .openapi(list, async (c) => {
    const { blocked, ...q } = c.req.valid("query");
    const page = await listUsersForAdmin(serviceContext(c), {
      ...q,
      blocked: blocked === undefined ? undefined : blocked === "true",
    });
    return c.json(page, 200);
  })
  .openapi(get, async (c) =>
    c.json(await getUserForAdmin(serviceContext(c), c.req.valid("param").id), 200),
  )
  .openapi(block, async (c) => {
    return c.json(
      await blockUser(serviceContext(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    );
  })
  .openapi(unblock, async (c) => {
    const body = c.req.valid("json") ?? {};
    return c.json(await unblockUser(serviceContext(c), c.req.valid("param").id, body), 200);
  });
