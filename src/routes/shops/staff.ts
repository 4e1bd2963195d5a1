import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  inviteStaff,
  inviteStaffInput,
  listInvitations,
  revokeInvitation,
} from "../../services/shops/invitations.ts";
import { listStaff, removeStaff } from "../../services/shops/staff.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { bodyOf } from "./schema.ts";

const StaffMember = z
  .object({
    userId: z.uuid(),
    email: z.email(),
    displayName: z.string(),
    role: z.enum(["owner", "manager", "staff"]),
    addedAt: z.iso.datetime(),
  })
  .openapi("StaffMember");
const StaffPage = z
  .object({ items: z.array(StaffMember), nextCursor: z.string().nullable() })
  .openapi("StaffPage");
const MemberParams = IdParam.extend({
  userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }),
});
const InvitationSent = z
  .object({
    id: z.uuid(),
    sentTo: z.string().openapi({ example: "a***@example.com" }),
    role: z.enum(["manager", "staff"]),
    expiresAt: z.iso.datetime(),
  })
  .openapi("StaffInvitationSent");
const PendingInvitation = z
  .object({
    id: z.uuid(),
    email: z.email(),
    role: z.enum(["manager", "staff"]),
    invitedBy: z.uuid(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .openapi("StaffInvitation");
const InvitationPage = z
  .object({ items: z.array(PendingInvitation), nextCursor: z.string().nullable() })
  .openapi("StaffInvitationPage");
const InvitationParams = IdParam.extend({
  invitationId: z.uuid().openapi({ param: { name: "invitationId", in: "path" } }),
});

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/{id}/staff",
  summary: "The shop's team (any member)",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of members", StaffPage), ...problems(401, 404, 422) },
});

const invite = createRoute({
  ...base,
  method: "post",
  path: "/{id}/staff",
  summary: "Invite an email to the team as manager or staff (owner)",
  description:
    "Nobody joins at once: an email with a single-use token valid 7 days goes to the address, " +
    "and its owner accepts with `POST /v1/staff-invitations/accept` while signed in with that " +
    "email. The answer is the same whether or not an account uses the address. A pending " +
    "invitation to the same email is replaced; an email already on the team answers 409. " +
    "Managers may change the catalog and stock; staff may read stock and file stock requests. " +
    "Rate limited per shop (`staff.invite.shop`) and per inviter (`staff.invite.user`).",
  request: { params: IdParam, body: json(bodyOf(inviteStaffInput, "InviteStaffInput")) },
  responses: {
    202: ok("The invitation is on its way", InvitationSent),
    ...problems(401, 403, 404, 409, 422, 429, 503),
  },
});

const invitations = createRoute({
  ...base,
  method: "get",
  path: "/{id}/staff/invitations",
  summary: "Pending invitations, newest first (owner)",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of invitations", InvitationPage), ...problems(401, 403, 404, 422) },
});

const revoke = createRoute({
  ...base,
  method: "delete",
  path: "/{id}/staff/invitations/{invitationId}",
  summary: "Revoke a pending invitation (owner): its token stops working",
  description: "An invitation already accepted, declined, revoked or expired answers 409.",
  request: { params: InvitationParams },
  responses: { 204: { description: "Revoked" }, ...problems(401, 403, 404, 409, 422) },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{id}/staff/{userId}",
  summary: "Remove a manager or staff member (owner); the owner cannot be removed",
  request: { params: MemberParams },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/shops/{id}/staff`. */
export const staffRoutes = createRouter()
  .openapi(list, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await listStaff(serviceContext(c), c.var.user.id, id, c.req.valid("query")), 200);
  })
  .openapi(invite, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(
      await inviteStaff(serviceContext(c), c.var.user.id, id, c.req.valid("json")),
      202,
    );
  })
  .openapi(invitations, async (c) => {
    const { id } = c.req.valid("param");
    const page = await listInvitations(serviceContext(c), c.var.user.id, id, c.req.valid("query"));
    return c.json(page, 200);
  })
  .openapi(revoke, async (c) => {
    const { id, invitationId } = c.req.valid("param");
    await revokeInvitation(serviceContext(c), c.var.user.id, id, invitationId);
    return c.body(null, 204);
  })
  .openapi(remove, async (c) => {
    const { id, userId } = c.req.valid("param");
    await removeStaff(serviceContext(c), c.var.user.id, id, userId);
    return c.body(null, 204);
  });
