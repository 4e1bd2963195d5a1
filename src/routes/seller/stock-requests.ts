import { createRoute, z } from "@hono/zod-openapi";
import { stockRequestStatus } from "../../db/schema/inventory.ts";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { text } from "../../lib/text.ts";
import {
  approveStockRequest,
  createRequestInput,
  createStockRequest,
  decisionInput,
  listStockRequests,
  MAX_REVIEW_IDS,
  rejectStockRequest,
  reviewStockRequests,
} from "../../services/inventory/requests.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { named, StockMovementSchema } from "./stock/schema.ts";

const base = { tags: ["inventory"], security: bearer, middleware: [requireAuth] };
const reviewers =
  "Owner and manager of the request's shop; staff get 403; anyone else 404. A request that " +
  "was already decided answers 409.";

const StatusSchema = z.enum(stockRequestStatus.enumValues);

const StockRequestSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    productId: z.uuid(),
    locationId: z.uuid(),
    delta: z.number().int(),
    reason: z.string(),
    status: StatusSchema,
    requestedBy: z.uuid(),
    reviewedBy: z.uuid().nullable(),
    reviewNote: z.string().nullable(),
    movementId: z.uuid().nullable().openapi({ description: "The movement the approval made." }),
    movementSequence: z.number().int().nullable(),
    createdAt: z.iso.datetime(),
    reviewedAt: z.iso.datetime().nullable(),
  })
  .openapi("StockRequest");

const ListQuery = z.object({
  shopId: z.uuid().openapi({ description: "The shop." }),
  status: StatusSchema.optional(),
  productId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().min(1).max(512).optional().openapi({ description: "From `nextCursor`." }),
});

const ReviewBody = z
  .object({
    approve: z.array(z.uuid()).max(MAX_REVIEW_IDS).default([]),
    reject: z.array(z.uuid()).max(MAX_REVIEW_IDS).default([]),
    note: text().trim().min(1).max(1000).optional(),
  })
  .openapi("StockRequestReviewInput", {
    description:
      "Name at least one request, in `approve` or `reject` (422 otherwise), at most " +
      `${MAX_REVIEW_IDS} in all, none in both.`,
  });

const DecisionBody = {
  content: { "application/json": { schema: named(decisionInput, "StockRequestDecision") } },
  required: false,
};

const ReviewOutcomeSchema = z
  .object({
    id: z.uuid(),
    decision: z.enum(["approve", "reject"]),
    ok: z.boolean(),
    request: StockRequestSchema.optional(),
    code: z.string().optional().openapi({ description: "Why it failed, e.g. INSUFFICIENT_STOCK." }),
    message: z.string().optional(),
  })
  .openapi("StockRequestReviewOutcome");

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Ask for a stock change (any member of the shop; how staff change stock)",
  description:
    "The change waits for an owner or manager, who are notified. Anyone outside the product's " +
    "shop gets 404; a location outside it 422 naming `locationId`.",
  request: { body: json(named(createRequestInput, "StockRequestInput")) },
  responses: { 201: ok("Filed", StockRequestSchema), ...problems(401, 404, 422) },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "A shop's stock requests, newest first (any member)",
  request: { query: ListQuery },
  responses: {
    200: ok(
      "A page of requests",
      z
        .object({ items: z.array(StockRequestSchema), nextCursor: z.string().nullable() })
        .openapi("StockRequestPage"),
    ),
    ...problems(401, 404, 422),
  },
});

const approve = createRoute({
  ...base,
  method: "post",
  path: "/{id}/approve",
  summary: "Approve: apply the change through the product's stock object and link the movement",
  description:
    `${reviewers} Applied at most once, even when approvals race (the request id is the ` +
    "object's idempotency key). A change the stock cannot take (on hand below reserved) answers " +
    "409 INSUFFICIENT_STOCK and the request stays pending.",
  request: { params: IdParam, body: DecisionBody },
  responses: {
    200: ok(
      "Approved",
      z
        .object({ request: StockRequestSchema, movement: StockMovementSchema })
        .openapi("StockRequestApproval"),
    ),
    ...problems(401, 403, 404, 409, 422),
  },
});

const reject = createRoute({
  ...base,
  method: "post",
  path: "/{id}/reject",
  summary: "Reject: stock is untouched",
  description: reviewers,
  request: { params: IdParam, body: DecisionBody },
  responses: { 200: ok("Rejected", StockRequestSchema), ...problems(401, 403, 404, 409, 422) },
});

const review = createRoute({
  ...base,
  method: "post",
  path: "/review",
  summary: "Approve and reject many requests at once",
  description:
    `Each request is decided on its own, exactly as by its single route (${reviewers}); one ` +
    "that cannot be decided is reported in its result (`ok: false`, `code`) and the rest " +
    `proceed. Up to ${MAX_REVIEW_IDS} ids in all; an id may appear once.`,
  request: { body: json(ReviewBody) },
  responses: {
    200: ok(
      "One result per id, approvals first",
      z.object({ results: z.array(ReviewOutcomeSchema) }).openapi("StockRequestReview"),
    ),
    ...problems(401, 422),
  },
});

/** `/v1/seller/stock-requests`: staff ask, owners and managers decide. */
export const stockRequestRoutes = createRouter()
  .openapi(create, async (c) =>
    c.json(await createStockRequest(serviceContext(c), c.var.user.id, c.req.valid("json")), 201),
  )
  .openapi(list, async (c) =>
    c.json(await listStockRequests(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(review, async (c) =>
    c.json(await reviewStockRequests(serviceContext(c), c.var.user.id, c.req.valid("json")), 200),
  )
  .openapi(approve, async (c) =>
    c.json(
      await approveStockRequest(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  )
  .openapi(reject, async (c) =>
    c.json(
      await rejectStockRequest(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  );
