import { z } from "@hono/zod-openapi";

export { named } from "../schemas.ts";

const minor = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description} Integer minor units of \`currency\`.` });

export const RoomStatusSchema = z
  .enum(["scheduled", "active", "closing", "ended_sold", "ended_unsold", "bought_now", "cancelled"])
  .openapi({
    description:
      "`closing`: past its end by the server's clock, the close about to be recorded (bids are " +
      "refused). `ended_sold`: the reserve was met, the winner must pay. `ended_unsold`: no bid " +
      "or the reserve not met. `bought_now`: closed early by buy-now.",
  });

export const PublicAuctionSchema = z
  .object({
    id: z.uuid(),
    product: z.object({
      id: z.uuid(),
      title: z.string(),
      imageUrls: z.array(z.string()),
      categoryId: z.uuid(),
    }),
    shop: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
    currency: z.string().openapi({ example: "EUR" }),
    status: RoomStatusSchema,
    startPriceMinor: minor("The opening price."),
    priceMinor: minor("The current price (the final price once ended)."),
    bidCount: z.number().int(),
    leaderAlias: z.string().nullable().openapi({
      description: "The leader's pseudonym in this auction (`bidder-3`), never who they are.",
      example: "bidder-3",
    }),
    hasReserve: z.boolean().openapi({ description: "The reserve amount itself is hidden." }),
    reserveMet: z.boolean(),
    buyNowPriceMinor: z.number().int().nullable(),
    buyNowAvailable: z.boolean().openapi({
      description: "Until the first bid, or with a reserve until the reserve is met (eBay).",
    }),
    minimumNextBidMinor: minor("The smallest maximum a new bidder may place now."),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().openapi({ description: "The current end, after extensions." }),
    scheduledEndsAt: z.iso.datetime(),
    softCloseSeconds: z.number().int(),
    source: z.enum(["object", "cache", "mirror"]).openapi({
      description:
        "`object`: read from the auction's Durable Object now. `cache`: the summary it last " +
        "published to Redis. `mirror`: the Postgres row (may trail the object by a moment).",
    }),
  })
  .openapi("Auction");

export const AuctionPageSchema = z
  .object({ items: z.array(PublicAuctionSchema), nextCursor: z.string().nullable() })
  .openapi("AuctionPage");

export const BidResultSchema = z
  .object({
    outcome: z.enum(["leading", "outbid"]).openapi({
      description: "`outbid`: another bidder's higher maximum answered at once (proxy bidding).",
    }),
    sequence: z.number().int().openapi({ description: "This bid's place: gapless, 1, 2, 3 …" }),
    priceMinor: minor("The price after this bid."),
    minimumNextBidMinor: minor("What a new bidder must offer now."),
    endsAt: z.iso.datetime().openapi({ description: "The end after this bid (soft close)." }),
    extended: z.boolean(),
    bidCount: z.number().int(),
    leaderAlias: z.string(),
    alias: z.string().openapi({ description: "Your pseudonym in this auction." }),
    reserveMet: z.boolean(),
    buyNowAvailable: z.boolean(),
    replayed: z.boolean().openapi({
      description: "True when the Idempotency-Key was seen before: no new bid was placed.",
    }),
  })
  .openapi("BidResult");

export const BuyNowResultSchema = z
  .object({
    auctionId: z.uuid(),
    status: z.literal("bought_now"),
    priceMinor: z.number().int(),
    currency: z.string(),
    orderId: z.uuid(),
    paymentDeadline: z.iso.datetime(),
    orderRecorded: z.boolean().openapi({
      description:
        "False only when Postgres was briefly unreachable: the order appears moments later.",
    }),
  })
  .openapi("BuyNowResult");

export const PublicBidSchema = z
  .object({
    sequence: z.number().int(),
    bidder: z.string().openapi({ example: "bidder-2" }),
    priceAfterMinor: z.number().int(),
    acceptedAt: z.iso.datetime(),
  })
  .openapi("PublicBid");

export const BidHistorySchema = z
  .object({
    items: z.array(PublicBidSchema),
    nextBeforeSequence: z.number().int().nullable().openapi({
      description: "Pass as `beforeSequence` for the next (older) page.",
    }),
  })
  .openapi("BidHistory");

export const OfferSchema = z
  .object({
    id: z.uuid(),
    auctionId: z.uuid(),
    bidderId: z.uuid(),
    priceMinor: minor("The bidder's own maximum."),
    currency: z.string(),
    status: z.enum(["offered", "accepted", "expired", "declined"]),
    expiresAt: z.iso.datetime(),
    orderId: z.uuid().nullable(),
    offeredBy: z.string().openapi({ description: "`seller` or `system` (unpaid winner)." }),
    createdAt: z.iso.datetime(),
  })
  .openapi("SecondChanceOffer");

export const AcceptedOfferSchema = z
  .object({
    offer: OfferSchema,
    order: z.object({
      id: z.uuid(),
      status: z.literal("pending_payment"),
      currency: z.string(),
      totalMinor: z.number().int(),
      paymentDeadline: z.iso.datetime(),
    }),
  })
  .openapi("AcceptedSecondChance");

export const SellerAuctionSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    productId: z.uuid(),
    title: z.string(),
    currency: z.string(),
    status: RoomStatusSchema,
    startPriceMinor: z.number().int(),
    reservePriceMinor: z.number().int().nullable(),
    buyNowPriceMinor: z.number().int().nullable(),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().openapi({ description: "The scheduled end." }),
    currentEndsAt: z.iso.datetime(),
    softCloseSeconds: z.number().int(),
    maxExtensionSeconds: z.number().int(),
    priceMinor: z.number().int(),
    bidCount: z.number().int(),
    leaderAlias: z.string().nullable(),
    reserveMet: z.boolean(),
    winnerId: z.uuid().nullable(),
    orderId: z.uuid().nullable(),
    closedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("SellerAuction");

export const SellerAuctionPageSchema = z
  .object({ items: z.array(SellerAuctionSchema), nextCursor: z.string().nullable() })
  .openapi("SellerAuctionPage");

export const SellerAuctionDetailSchema = SellerAuctionSchema.extend({
  bidders: z.array(
    z.object({
      bidderId: z.uuid(),
      alias: z.string(),
      maxMinor: z.number().int(),
      maxSequence: z.number().int(),
      offered: z.boolean(),
    }),
  ),
  offers: z.array(
    z.object({
      id: z.uuid(),
      bidderId: z.uuid(),
      priceMinor: z.number().int(),
      status: z.string(),
      expiresAt: z.iso.datetime(),
      orderId: z.uuid().nullable(),
    }),
  ),
}).openapi("SellerAuctionDetail");
