import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { listShopFeedback } from "../../services/feedback/feedback.ts";
import { ShopFeedbackPage } from "../feedback/schema.ts";
import { IdParam, ok, problems } from "../schemas.ts";

const shopList = createRoute({
  tags: ["feedback"],
  method: "get",
  path: "/{id}/feedback",
  summary: "A visible shop's feedback, newest first, with the average and distribution",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of feedback", ShopFeedbackPage), ...problems(404, 422) },
});

/** `/v1/shops/{id}/feedback`: public, for visible shops only. */
export const shopFeedbackRoutes = createRouter().openapi(shopList, async (c) =>
  c.json(
    await listShopFeedback(serviceContext(c), c.req.valid("param").id, c.req.valid("query")),
    200,
  ),
);
