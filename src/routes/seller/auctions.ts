import { createRoute, z } from "@hono/zod-openapi";
import { cancelInput } from "../../../durable-objects/auction-room/types.ts";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { cancelAuction } from "../../services/auctions/cancel.ts";
import { createAuction, createAuctionInput } from "../../services/auctions/create.ts";
import { getShopAuction, listShopAuctions } from "../../services/auctions/queries.ts";
import { offerSecondChance, secondChanceInput } from "../../services/auctions/second-chance.ts";
import {
  named,
  OfferSchema,
  SellerAuctionDetailSchema,
  SellerAuctionPageSchema,
  SellerAuctionSchema,
} from "../auctions/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";

const base = { tags: ["seller auctions"], security: bearer, middleware: [requireAuth] };

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  summary: "Open an auction for an auction-type product (owner or manager)",
  description:
    "The product must be published with `listingType: auction`, in a verified, approved shop " +
    "with payouts enabled (409 otherwise); one open auction per product (409). `startsAt` " +
    "defaults to now; `endsAt` must be in the future, at least 5 s after the start and at most " +
    "30 days. `reservePriceMinor` is hidden from buyers. `buyNowPriceMinor` must be ≥ ceil(start " +
    "× 1.3) and ≥ the reserve. Soft close: a bid in the last `softCloseSeconds` (default 120) " +
    "moves the end to 120 s after it, never past `endsAt + maxExtensionSeconds` (default 3600).",
  request: { body: json(named(createAuctionInput, "CreateAuctionInput")) },
  responses: {
    201: ok("The auction", SellerAuctionSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "A shop's auctions, newest first (owner, manager, staff)",
  request: {
    query: z.object({
      shopId: z.uuid(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().min(1).max(512).optional(),
    }),
  },
  responses: { 200: ok("A page of auctions", SellerAuctionPageSchema), ...problems(401, 404, 422) },
});

const detail = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One auction with its reserve, outcome and, once ended, its bidders and offers",
  request: { params: IdParam },
  responses: { 200: ok("The auction", SellerAuctionDetailSchema), ...problems(401, 404, 422) },
});

const secondChance = createRoute({
  ...base,
  method: "post",
  path: "/{id}/second-chance",
  summary: "Offer the item to a losing bidder at their own maximum (valid 48 h)",
  description:
    "Once the auction ended unsold (reserve not met), or its winner's order expired unpaid or " +
    "was cancelled. `bidderId`: a bidder's id (see the auction's `bidders`) or `top` for the " +
    "highest eligible one. One open offer per auction; each bidder at most once (409).",
  request: { params: IdParam, body: json(named(secondChanceInput, "SecondChanceInput")) },
  responses: { 201: ok("The offer", OfferSchema), ...problems(401, 403, 404, 409, 422) },
});

const cancel = createRoute({
  ...base,
  method: "post",
  path: "/{id}/cancel",
  summary: "Withdraw an auction that has no bid yet",
  request: {
    params: IdParam,
    body: json(named(cancelInput.pick({ reason: true }), "CancelAuctionInput")),
  },
  responses: { 200: ok("Cancelled", SellerAuctionSchema), ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/seller/auctions`: creating and running a shop's auctions. */
export const sellerAuctionRoutes = createRouter()
  .openapi(create, async (c) =>
    c.json(await createAuction(serviceContext(c), c.get("user").id, c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => {
    const { shopId, ...page } = c.req.valid("query");
    return c.json(await listShopAuctions(serviceContext(c), c.get("user").id, shopId, page), 200);
  })
  .openapi(detail, async (c) =>
    c.json(await getShopAuction(serviceContext(c), c.get("user").id, c.req.valid("param").id), 200),
  )
  .openapi(secondChance, async (c) =>
    c.json(
      await offerSecondChance(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      201,
    ),
  )
  .openapi(cancel, async (c) =>
    c.json(
      await cancelAuction(
        serviceContext(c),
        c.get("user").id,
        c.req.valid("param").id,
        c.req.valid("json").reason,
      ),
      200,
    ),
  );
