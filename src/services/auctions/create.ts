import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import {
  MAX_EXTENSION_SECONDS,
  MAX_PRICE_MINOR,
  MAX_SOFT_CLOSE_SECONDS,
  minimumBuyNowMinor,
} from "../../../durable-objects/auction-room/types.ts";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import { withAudit } from "../../db/audit.ts";
import { type Auction, auctions } from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../context.ts";
import { Conflict, type FieldError, NotFound, ValidationFailed } from "../errors.ts";
import { isShopVisible, requireShopPermission } from "../shops/access.ts";
import { type SellerAuction, sellerView } from "./views.ts";

/** Shortest auction: short flash auctions are allowed; most run days. */
export const MIN_DURATION_SECONDS = 5;
/** Longest auction, start to scheduled end (eBay's longest listing is 10 days; we allow 30). */
export const MAX_DURATION_DAYS = 30;
/** How far ahead an auction may be scheduled to start. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;
/** Clock skew tolerated on `startsAt`: "now" from a client may arrive a little late. */
export const START_SKEW_SECONDS = 60;
export const DEFAULT_SOFT_CLOSE_SECONDS = 120;
export const DEFAULT_MAX_EXTENSION_SECONDS = 3600;

const price = z.int().min(1).max(MAX_PRICE_MINOR);
const DAY_MS = 24 * 60 * 60 * 1000;

export const createAuctionInput = z
  .object({
    productId: z.uuid(),
    startPriceMinor: price,
    /** Hidden from buyers; only "reserve met / not met" is public. */
    reservePriceMinor: price.optional(),
    /** At least 30% above the start (≥ ceil(start × 1.3)), and not below the reserve. */
    buyNowPriceMinor: price.optional(),
    /** Omitted: starts now. */
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    softCloseSeconds: z
      .int()
      .min(0)
      .max(MAX_SOFT_CLOSE_SECONDS)
      .default(DEFAULT_SOFT_CLOSE_SECONDS),
    maxExtensionSeconds: z
      .int()
      .min(0)
      .max(MAX_EXTENSION_SECONDS)
      .default(DEFAULT_MAX_EXTENSION_SECONDS),
  })
  .superRefine((v, ctx) => {
    if (v.reservePriceMinor !== undefined && v.reservePriceMinor < v.startPriceMinor) {
      ctx.addIssue({
        code: "custom",
        path: ["reservePriceMinor"],
        message: "must be at least the start price",
      });
    }
    if (v.buyNowPriceMinor !== undefined) {
      const min = minimumBuyNowMinor(v.startPriceMinor);
      if (v.buyNowPriceMinor < min) {
        ctx.addIssue({
          code: "custom",
          path: ["buyNowPriceMinor"],
          message: `must be at least 30% above the start price: ${min} or more`,
        });
      } else if (v.reservePriceMinor !== undefined && v.buyNowPriceMinor < v.reservePriceMinor) {
        ctx.addIssue({
          code: "custom",
          path: ["buyNowPriceMinor"],
          message: "must be at least the reserve price",
        });
      }
    }
  });
export type CreateAuctionInput = z.input<typeof createAuctionInput>;

/** The time rules, which need "now": 422 naming `startsAt` / `endsAt`. */
function checkTimes(startsAt: number, endsAt: number, now: number): void {
  const errors: FieldError[] = [];
  if (startsAt < now - START_SKEW_SECONDS * 1000) {
    errors.push({ field: "startsAt", in: "body", message: "must not be in the past" });
  } else if (startsAt > now + MAX_SCHEDULE_AHEAD_DAYS * DAY_MS) {
    errors.push({
      field: "startsAt",
      in: "body",
      message: `must be within ${MAX_SCHEDULE_AHEAD_DAYS} days`,
    });
  }
  if (endsAt < Math.max(startsAt, now) + MIN_DURATION_SECONDS * 1000) {
    errors.push({
      field: "endsAt",
      in: "body",
      message: `must be in the future, at least ${MIN_DURATION_SECONDS} s after startsAt`,
    });
  } else if (endsAt > startsAt + MAX_DURATION_DAYS * DAY_MS) {
    errors.push({
      field: "endsAt",
      in: "body",
      message: `must be at most ${MAX_DURATION_DAYS} days after startsAt`,
    });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
}

/**
 * Opens an auction for an `auction`-type, published product of a visible shop with payouts, by
 * its owner or a manager (catalog.write). One open auction per product (409). The Postgres row
 * and its audit commit first; then the object is configured (idempotent) and arms its alarms.
 * If the object cannot be reached the row stays unconfigured and the minute sweep configures it.
 */
export async function createAuction(
  ctx: ServiceContext,
  userId: string,
  raw: CreateAuctionInput,
): Promise<SellerAuction> {
  const input = parseOr422(createAuctionInput, raw);
  const now = Date.now();
  const startsAt = input.startsAt ? Date.parse(input.startsAt) : now;
  const endsAt = Date.parse(input.endsAt);
  checkTimes(startsAt, endsAt, now);

  const [product] = await ctx.db
    .select()
    .from(products)
    .where(and(eq(products.id, input.productId), isNull(products.deletedAt)));
  if (!product) throw new NotFound("product", input.productId);
  const { shop } = await requireShopPermission(ctx.db, product.shopId, userId, "catalog.write");
  if (!isShopVisible(shop) || !shop.payoutsEnabled) {
    throw new Conflict(
      "Only a verified, approved shop with payouts enabled can run auctions: winners pay through it.",
      {
        reason: "shop_not_ready",
        visible: isShopVisible(shop),
        payoutsEnabled: shop.payoutsEnabled,
      },
    );
  }
  if (product.listingType !== "auction") {
    throw new Conflict(
      `Product ${product.id} is a fixed-price listing; set its listingType to "auction" first.`,
      { reason: "not_auction_listing" },
    );
  }
  if (product.status !== "published") {
    throw new Conflict(`Product ${product.id} is a draft; publish it first.`, {
      reason: "not_published",
    });
  }

  const id = uuidv7(now);
  let row: Auction;
  try {
    row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [inserted] = await tx
        .insert(auctions)
        .values({
          id,
          shopId: shop.id,
          productId: product.id,
          createdBy: userId,
          currency: product.currency,
          startPriceMinor: input.startPriceMinor,
          reservePriceMinor: input.reservePriceMinor ?? null,
          buyNowPriceMinor: input.buyNowPriceMinor ?? null,
          startsAt: new Date(startsAt),
          endsAt: new Date(endsAt),
          currentEndsAt: new Date(endsAt),
          softCloseSeconds: input.softCloseSeconds,
          maxExtensionSeconds: input.maxExtensionSeconds,
          status: "scheduled",
          priceMinor: input.startPriceMinor,
        })
        .returning();
      if (!inserted) throw new Error("auction insert returned nothing");
      await audit.record({
        action: "auction.created",
        entityType: "auction",
        entityId: id,
        newValue: {
          shopId: shop.id,
          productId: product.id,
          currency: product.currency,
          startPriceMinor: inserted.startPriceMinor,
          reservePriceMinor: inserted.reservePriceMinor,
          buyNowPriceMinor: inserted.buyNowPriceMinor,
          startsAt: inserted.startsAt.toISOString(),
          endsAt: inserted.endsAt.toISOString(),
          softCloseSeconds: inserted.softCloseSeconds,
          maxExtensionSeconds: inserted.maxExtensionSeconds,
        },
      });
      return inserted;
    });
  } catch (err) {
    if (isUniqueViolation(err, "auctions_one_open_per_product_key")) {
      throw new Conflict(`Product ${product.id} already has an open auction.`, {
        reason: "auction_open",
      });
    }
    throw err;
  }
  const configured = await configureAuction(ctx, row);
  return sellerView(configured, product.title);
}

/**
 * Configures the auction's object from its row (idempotent) and records `configured_at`. A
 * failure is logged and left to the sweep; the row is returned either way.
 */
export async function configureAuction(ctx: ServiceContext, row: Auction): Promise<Auction> {
  try {
    const result = await roomOf(ctx.rooms, row.id).configure({
      auctionId: row.id,
      shopId: row.shopId,
      productId: row.productId,
      currency: row.currency,
      startPriceMinor: row.startPriceMinor,
      reservePriceMinor: row.reservePriceMinor,
      buyNowPriceMinor: row.buyNowPriceMinor,
      startsAt: row.startsAt.toISOString(),
      endsAt: row.endsAt.toISOString(),
      softCloseSeconds: row.softCloseSeconds,
      maxExtensionSeconds: row.maxExtensionSeconds,
    });
    if (!result.ok) {
      ctx.logger.error("auction object refused its configuration", {
        auctionId: row.id,
        code: result.code,
        message: result.message,
      });
      return row;
    }
    const [updated] = await ctx.db
      .update(auctions)
      .set({ configuredAt: new Date() })
      .where(and(eq(auctions.id, row.id), isNull(auctions.configuredAt)))
      .returning();
    return updated ?? row;
  } catch (err) {
    ctx.logger.warn("auction object not configured yet; the sweep retries", {
      auctionId: row.id,
      error: errorMessage(err),
    });
    return row;
  }
}
