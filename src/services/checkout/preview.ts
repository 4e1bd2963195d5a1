import { stockOf } from "../../../durable-objects/product-stock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { requireCanBuy } from "../cart/can-buy.ts";
import type { ServiceContext } from "../context.ts";
import { previewSlots, type SlotOffer, type SlotWarning } from "../delivery/booking.ts";
import {
  type CheckoutInput,
  type CheckoutPlan,
  type FulfilmentPlan,
  type PlannedLine,
  planCheckout,
  type ShopPlan,
} from "./plan.ts";
import { readCart, readListings } from "./snapshots.ts";

export type CheckoutWarning =
  | {
      code: "insufficient_stock";
      productId: string;
      shopId: string;
      locationId: string;
      requested: number;
      available: number;
      message: string;
    }
  | { code: "stock_unknown"; productId: string; shopId: string; message: string }
  | { code: "unavailable"; productId: string; reason: string; message: string }
  | SlotWarning;

export interface PreviewLine extends PlannedLine {
  /** Units available now where this order would take them from (warehouse or pickup branch). */
  available: number | null;
}

/** Fulfilment as shown back: the address snapshot is the buyer's own, so it is included. */
export interface PreviewShop {
  shopId: string;
  shopName: string;
  fulfilment: FulfilmentPlan;
  /** Delivery: the shop's next open delivery windows (null for pickup). */
  deliverySlots: SlotOffer | null;
  stockLocationId: string;
  lines: PreviewLine[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  /** Kept by the platform from this shop's share; the buyer does not pay it on top. */
  platformFeeMinor: number;
  /** Whether the prices (and delivery fee) include tax; if not, `taxMinor` is added. */
  pricesIncludeTax: boolean;
  taxMinor: number;
  /** Per rate: the net amount taxed at it and the tax (each line rounded on its own). */
  taxLines: ShopPlan["taxLines"];
  totalMinor: number;
}

export interface CheckoutPreview {
  currency: string;
  shops: PreviewShop[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  /** Σ the shops' tax, included in their prices or added to their totals. */
  taxMinor: number;
  /** What the buyer would pay: Σ shop totals (subtotals + delivery + tax not in the prices). */
  totalMinor: number;
  /** An optimistic check: nothing is held until confirm. */
  warnings: CheckoutWarning[];
  /** True when confirm would, as things stand now, go through. */
  ready: boolean;
}

/**
 * What confirming would charge, per shop and in total, with an optimistic stock check at the
 * location each order would take from. Holds nothing and writes nothing.
 */
export async function previewCheckout(
  ctx: ServiceContext,
  buyerId: string,
  input: CheckoutInput,
): Promise<CheckoutPreview> {
  await requireCanBuy(ctx.db, buyerId);
  const plan = await planCheckout(ctx, buyerId, input);
  if (ctx.redis) {
    // Leaves what the confirm that usually follows will need in Redis (off this answer's path),
    // so that confirm reads nothing from Postgres before its one write.
    const deps = ctx;
    deps.defer(
      (input.items
        ? readListings(
            deps,
            input.items.map((i) => i.productId),
            { fresh: true },
          )
        : readCart(deps, buyerId, { fresh: true })
      ).catch((err: unknown) =>
        deps.logger.warn("could not store purchase snapshots", {
          error: errorMessage(err),
        }),
      ),
    );
  }
  const [preview, slots] = await Promise.all([
    withStockCheck(ctx, plan),
    previewSlots(ctx, plan.shops, input.fulfilment),
  ]);
  const warnings = [...preview.warnings, ...slots.warnings];
  return {
    ...preview,
    shops: preview.shops.map((s) => ({ ...s, deliverySlots: slots.offers.get(s.shopId) ?? null })),
    warnings,
    ready: warnings.length === 0,
  };
}

async function withStockCheck(ctx: ServiceContext, plan: CheckoutPlan): Promise<CheckoutPreview> {
  const warnings: CheckoutWarning[] = plan.unavailable.map((u) => ({
    code: "unavailable",
    productId: u.productId,
    reason: u.reason,
    message: `Product ${u.productId} cannot be bought now (${u.reason}); remove it from the cart.`,
  }));
  const shops = await Promise.all(
    plan.shops.map(async (shop): Promise<PreviewShop> => {
      const lines = await Promise.all(
        shop.lines.map(async (line): Promise<PreviewLine> => {
          let available: number | null = null;
          try {
            const snap = await stockOf(ctx.stock, line.productId).snapshot();
            available =
              snap.locations.find((l) => l.locationId === shop.stockLocationId)?.available ?? 0;
          } catch {
            warnings.push({
              code: "stock_unknown",
              productId: line.productId,
              shopId: shop.shopId,
              message: `Stock of product ${line.productId} cannot be checked right now.`,
            });
          }
          if (available !== null && available < line.quantity) {
            warnings.push({
              code: "insufficient_stock",
              productId: line.productId,
              shopId: shop.shopId,
              locationId: shop.stockLocationId,
              requested: line.quantity,
              available,
              message:
                `Only ${available} of "${line.title}" available ` +
                `${shop.fulfilment.method === "pickup" ? "at this branch" : "for delivery"}; ` +
                `the cart has ${line.quantity}.`,
            });
          }
          return { ...line, available };
        }),
      );
      return { ...shop, deliverySlots: null, lines };
    }),
  );
  return {
    currency: plan.currency,
    shops,
    subtotalMinor: plan.subtotalMinor,
    deliveryFeeMinor: plan.deliveryFeeMinor,
    platformFeeMinor: plan.platformFeeMinor,
    taxMinor: plan.taxMinor,
    totalMinor: plan.totalMinor,
    warnings,
    ready: warnings.length === 0,
  };
}
