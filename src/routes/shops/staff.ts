import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { addStaff, addStaffInput, listStaff, removeStaff } from "../../services/shops/staff.ts";
import { bearer, IdParam, problems } from "../schemas.ts";
import { bodyOf, json, ok } from "./schema.ts";

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

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/{id}/staff",
  summary: "The shop's team (any member)",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of members", StaffPage), ...problems(401, 404, 422) },
});

const add = createRoute({
  ...base,
  method: "post",
  path: "/{id}/staff",
  summary: "Add an existing user as manager or staff (owner)",
  description:
    "Managers may change the catalog and stock; staff may read stock and file stock requests. " +
    "An email no account uses answers 422 naming `email`; an existing member answers 409.",
  request: { params: IdParam, body: json(bodyOf(addStaffInput, "AddStaffInput")) },
  responses: { 201: ok("Added", StaffMember), ...problems(401, 403, 404, 409, 422) },
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
  .openapi(add, async (c) => {
    const { id } = c.req.valid("param");
    const deps = { queue: c.env.NOTIFICATIONS, logger: c.get("services").logger };
    return c.json(
      await addStaff(serviceContext(c), deps, c.var.user.id, id, c.req.valid("json")),
      201,
    );
  })
  .openapi(remove, async (c) => {
    const { id, userId } = c.req.valid("param");
    await removeStaff(serviceContext(c), c.var.user.id, id, userId);
    return c.body(null, 204);
  });
