import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  adminShopQuery,
  listShopsForReview,
  type ReviewAction,
  reviewReasonInput,
  reviewShop,
} from "../../services/shops/review.ts";
import { IdParam, json, ok, problems } from "../schemas.ts";
import { bodyOf, ShopManagedPage, ShopManagedSchema } from "../shops/schema.ts";
import { adminOnly } from "./base.ts";

const ReasonBody = bodyOf(reviewReasonInput, "ReviewReason");

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Every shop for review, newest first, optionally of one status",
  request: { query: pageQuery.extend(adminShopQuery.shape) },
  responses: { 200: ok("A page of shops", ShopManagedPage), ...problems(401, 403, 422) },
});

const approve = createRoute({
  ...adminOnly,
  method: "post",
  path: "/{id}/approve",
  summary: "Approve a shop (also reinstates a rejected or suspended one)",
  description: "Refused with 409 until the shop's contact email is OTP-verified.",
  request: { params: IdParam },
  responses: { 200: ok("Approved", ShopManagedSchema), ...problems(401, 403, 404, 409, 422) },
});

const decision = (action: Exclude<ReviewAction, "approve">, summary: string) =>
  createRoute({
    ...adminOnly,
    method: "post",
    path: `/{id}/${action}`,
    summary,
    request: { params: IdParam, body: json(ReasonBody) },
    responses: {
      200: ok(action === "reject" ? "Rejected" : "Suspended", ShopManagedSchema),
      ...problems(401, 403, 404, 409, 422),
    },
  });

const reject = decision("reject", "Reject a pending shop, with a reason the owner is told");
const suspend = decision("suspend", "Suspend an approved shop, with a reason: it disappears");

/** `/v1/admin/shops`: the review queue and the admin's decisions; each writes one audit row. */
export const adminShopRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await listShopsForReview(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(approve, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await reviewShop(serviceContext(c), id, "approve", null), 200);
  })
  .openapi(reject, async (c) => {
    const { id } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    return c.json(await reviewShop(serviceContext(c), id, "reject", reason), 200);
  })
  .openapi(suspend, async (c) => {
    const { id } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    return c.json(await reviewShop(serviceContext(c), id, "suspend", reason), 200);
  });
