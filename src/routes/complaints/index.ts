import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import {
  createComplaint,
  createComplaintInput,
  getComplaint,
  listMyComplaints,
} from "../../services/complaints/complaints.ts";
import { named } from "../auctions/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { ComplaintPage, ComplaintSchema } from "./schema.ts";

const base = { tags: ["complaints"], security: bearer, middleware: [requireAuth] };

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Complain about an order, a shop or a user (you are notified at each step)",
  description:
    "At most 3 complaints a day about one subject and 10 a day in all, per user: past either, " +
    "429 with Retry-After and `limit` naming which (`complaint.subject`, `complaint.user`).",
  request: { body: json(named(createComplaintInput, "CreateComplaintInput")) },
  responses: { 201: ok("Filed", ComplaintSchema), ...problems(401, 404, 422, 429) },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your complaints, newest first",
  request: { query: pageQuery },
  responses: { 200: ok("A page of complaints", ComplaintPage), ...problems(401, 422) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One of your complaints (admins: any)",
  request: { params: IdParam },
  responses: { 200: ok("The complaint", ComplaintSchema), ...problems(401, 404, 422) },
});

/** `/v1/complaints`: a user's complaints. Admins work them under `/v1/admin/complaints`. */
export const complaintRoutes = createRouter()
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const { redis } = c.get("services");
    const userId = c.get("user").id;
    // The subject's limit first: a complaint refused there does not use up the daily total.
    await enforceLimit(
      redis,
      "complaint.subject",
      `${userId}:${body.subject.type}:${body.subject.id}`,
    );
    await enforceLimit(redis, "complaint.user", userId);
    return c.json(await createComplaint(serviceContext(c), body), 201);
  })
  .openapi(list, async (c) =>
    c.json(await listMyComplaints(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(await getComplaint(serviceContext(c), c.req.valid("param").id), 200),
  );
