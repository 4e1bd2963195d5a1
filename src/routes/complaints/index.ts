import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  createComplaint,
  createComplaintInput,
  getComplaint,
  listMyComplaints,
} from "../../services/community/complaints.ts";
import { json, named, ok } from "../auctions/schema.ts";
import { bearer, IdParam, problems } from "../schemas.ts";
import { ComplaintPage, ComplaintSchema, communityContext } from "./schema.ts";

const base = { tags: ["complaints"], security: bearer, middleware: [requireAuth] };

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Complain about an order, a shop or a user (you are notified at each step)",
  request: { body: json(named(createComplaintInput, "CreateComplaintInput")) },
  responses: { 201: ok("Filed", ComplaintSchema), ...problems(401, 404, 422) },
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
  .openapi(create, async (c) =>
    c.json(await createComplaint(communityContext(c), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) =>
    c.json(await listMyComplaints(communityContext(c), c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(await getComplaint(communityContext(c), c.req.valid("param").id), 200),
  );
