/**
 * Checkout money rules, integers of minor units only. Per shop (one order each):
 *
 *   subtotal     = Σ unit price × quantity (prices re-read from the catalog)
 *   delivery fee = 0 for pickup; for delivery 0 when subtotal ≥ the free-delivery minimum, else
 *                  the fee (the shop's overrides when set, else the platform's defaults)
 *   tax          = Σ per-line tax of the lines and of the delivery fee (src/lib/tax.ts: each
 *                  product's rate, the delivery at the shop's default rate, rounded per line)
 *   total        = subtotal + delivery fee, + tax when the shop's prices exclude it
 *                  (what the buyer pays for this shop; inclusive prices already carry it)
 *   platform fee = round_half_up(subtotal × PLATFORM_FEE_BPS / 10 000)
 *                  kept by the platform out of the shop's share; never charged on delivery or
 *                  on tax added on top of the prices
 *   shop share   = total − platform fee             (transferred to the shop's account)
 *
 * The checkout's amount (one PaymentIntent) is the sum of its orders' totals.
 */

import { type OrderTax, taxOrder } from "../../lib/tax.ts";

/** Largest amount a Postgres `integer` column holds: subtotals and totals must fit. */
export const MAX_AMOUNT_MINOR = 2_147_483_647;

/**
 * `subtotal × bps / 10 000` rounded half up, in integers: a fee of exactly half a minor unit
 * rounds up (1 025 × 200 bps = 20.5 → 21).
 */
export function platformFeeMinor(subtotalMinor: number, bps: number): number {
  const scaled = subtotalMinor * bps;
  if (!Number.isSafeInteger(scaled) || subtotalMinor < 0 || bps < 0) {
    throw new RangeError(`platform fee out of range: ${subtotalMinor} × ${bps}`);
  }
  return Math.floor((scaled + 5_000) / 10_000);
}

export interface DeliveryRules {
  /** Fee under the minimum. */
  feeMinor: number;
  /** Subtotal at or above which delivery is free. */
  freeMinMinor: number;
}

/** The shop's overrides where set, else the platform defaults. */
export function deliveryRules(
  shop: { deliveryFeeMinor: number | null; freeDeliveryMinMinor: number | null },
  defaults: { DELIVERY_FEE_MINOR: number; FREE_DELIVERY_MIN_MINOR: number },
): DeliveryRules {
  return {
    feeMinor: shop.deliveryFeeMinor ?? defaults.DELIVERY_FEE_MINOR,
    freeMinMinor: shop.freeDeliveryMinMinor ?? defaults.FREE_DELIVERY_MIN_MINOR,
  };
}

export function deliveryFeeMinor(
  method: "delivery" | "pickup",
  subtotalMinor: number,
  rules: DeliveryRules,
): number {
  if (method === "pickup") return 0;
  return subtotalMinor >= rules.freeMinMinor ? 0 : rules.feeMinor;
}

/**
 * The taxes of one shop's order: each line (unit price × quantity) at its product's rate, the
 * delivery fee at the shop's default rate, in the shop's mode (src/lib/tax.ts).
 */
export function shopOrderTax(
  lines: ReadonlyArray<{ priceMinor: number; quantity: number; tax: { rateBps: number } }>,
  deliveryMinor: number,
  shop: { pricesIncludeTax: boolean; shopRateBps: number },
): OrderTax {
  return taxOrder({
    inclusive: shop.pricesIncludeTax,
    lines: lines.map((l) => ({ amountMinor: l.priceMinor * l.quantity, rateBps: l.tax.rateBps })),
    delivery: { amountMinor: deliveryMinor, rateBps: shop.shopRateBps },
  });
}
