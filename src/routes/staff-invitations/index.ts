import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  acceptInvitation,
  declineInvitation,
  invitationTokenInput,
} from "../../services/shops/invitations.ts";
import { bearer, json, ok, problems } from "../schemas.ts";
import { bodyOf } from "../shops/schema.ts";

const JoinedShop = z
  .object({
    shopId: z.uuid(),
    shopName: z.string(),
    role: z.enum(["manager", "staff"]),
    joinedAt: z.iso.datetime(),
  })
  .openapi("JoinedShop");

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };
const body = json(bodyOf(invitationTokenInput, "StaffInvitationToken"));
const refusals =
  "A token that is unknown or was sent to another email answers 404, the same for both; one " +
  "already accepted, declined, revoked, replaced or expired answers 409.";

const accept = createRoute({
  ...base,
  method: "post",
  path: "/accept",
  summary: "Join a shop's team with the token from an invitation email",
  description: `Sign in with the invited email first; you join with the invited role. ${refusals}`,
  request: { body },
  responses: { 200: ok("Joined", JoinedShop), ...problems(401, 403, 404, 409, 422) },
});

const decline = createRoute({
  ...base,
  method: "post",
  path: "/decline",
  summary: "Decline an invitation to a shop's team; its token stops working",
  description: `Sign in with the invited email first. ${refusals}`,
  request: { body },
  responses: { 204: { description: "Declined" }, ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/staff-invitations`: the invitee's side of a staff invitation. */
export const staffInvitationRoutes = createRouter()
  .openapi(accept, async (c) => {
    return c.json(
      await acceptInvitation(serviceContext(c), c.var.user.id, c.req.valid("json")),
      200,
    );
  })
  .openapi(decline, async (c) => {
    await declineInvitation(serviceContext(c), c.var.user.id, c.req.valid("json"));
    return c.body(null, 204);
  });
