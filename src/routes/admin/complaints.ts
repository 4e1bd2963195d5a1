import { createRoute, type z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  assignComplaint,
  assignComplaintInput,
  listComplaintsForAdmin,
  resolveComplaint,
  resolveComplaintInput,
} from "../../services/complaints/complaints.ts";
import { named } from "../auctions/schema.ts";
import { ComplaintPage, ComplaintSchema, ComplaintStatusSchema } from "../complaints/schema.ts";
import { IdParam, json, ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Every complaint, newest first, optionally by status",
  request: { query: pageQuery.extend({ status: ComplaintStatusSchema.optional() }) },
  responses: { 200: ok("A page of complaints", ComplaintPage), ...problems(401, 403, 422) },
});

const assign = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/assign",
  summary: "Assign a complaint to an admin (yourself by default); one audit row",
  request: {
    params: IdParam,
    body: {
      content: {
        "application/json": { schema: named(assignComplaintInput, "AssignComplaintInput") },
      },
      required: false,
    },
  },
  responses: { 200: ok("Assigned", ComplaintSchema), ...problems(401, 403, 404, 409, 422) },
});

const resolve = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/resolve",
  summary: "Resolve a complaint with an outcome and a note; one audit row",
  request: { params: IdParam, body: json(named(resolveComplaintInput, "ResolveComplaintInput")) },
  responses: { 200: ok("Resolved", ComplaintSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/admin/complaints`: admins work complaints; the complainant hears of each step. */
export const adminComplaintRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listComplaintsForAdmin(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(assign, async (c) => {
    const body: z.infer<typeof assignComplaintInput> = c.req.valid("json") ?? {};
    return c.json(await assignComplaint(serviceContext(c), c.req.valid("param").id, body), 200);
  })
  .openapi(resolve, async (c) =>
    c.json(
      await resolveComplaint(serviceContext(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    ),
  );
