import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import { addresses } from "../../db/schema/addresses.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import type { Stripe } from "../../lib/stripe.ts";
import type { BuyingContext } from "../cart/context.ts";
import { type CartLineRow, loadCartLines, type UnavailableReason } from "../cart/lines.ts";
import { Conflict, type FieldError, ValidationFailed } from "../errors.ts";
import { parseOr422 } from "../inventory/input.ts";
import { deliveryFeeMinor, deliveryRules, MAX_AMOUNT_MINOR, platformFeeMinor } from "./pricing.ts";

/**
 * Most shops (so orders) in one checkout. Stripe metadata values hold 500 characters and the
 * PaymentIntent carries every order id: 10 × 37 fits with room to spare.
 */
export const MAX_SHOPS_PER_CHECKOUT = 10;

/** What checkout services need: buying deps, and Stripe for confirm. */
export interface CheckoutContext extends BuyingContext {
  stripe: Stripe;
}

export const fulfilmentChoice = z.discriminatedUnion("method", [
  z.object({
    shopId: z.uuid(),
    method: z.literal("delivery"),
    /** One of the buyer's addresses (`/v1/me/addresses`). */
    addressId: z.uuid(),
  }),
  z.object({
    shopId: z.uuid(),
    method: z.literal("pickup"),
    /** A branch location of that shop. */
    locationId: z.uuid(),
  }),
]);
export type FulfilmentChoice = z.infer<typeof fulfilmentChoice>;

export const checkoutInput = z.object({
  /** One entry per shop in the cart: how that shop's order reaches the buyer. */
  fulfilment: z
    .array(fulfilmentChoice)
    .min(1)
    .max(MAX_SHOPS_PER_CHECKOUT)
    .superRefine((choices, ctx) => {
      const seen = new Set<string>();
      choices.forEach((c, i) => {
        if (seen.has(c.shopId)) {
          ctx.addIssue({
            code: "custom",
            message: "this shop is listed twice",
            path: [i, "shopId"],
          });
        }
        seen.add(c.shopId);
      });
    }),
  /**
   * The total the buyer agreed to (from the preview). When given and the total has changed since
   * (a seller changed a price), confirm answers 409 and charges nothing.
   */
  expectedTotalMinor: z.int().min(0).max(MAX_AMOUNT_MINOR).optional(),
});
export type CheckoutInput = z.input<typeof checkoutInput>;

export interface AddressSnapshot {
  recipientName: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  country: string;
  phone: string | null;
}

export type FulfilmentPlan =
  | { method: "delivery"; addressId: string; address: AddressSnapshot }
  | { method: "pickup"; locationId: string; locationName: string };

export interface PlannedLine {
  productId: string;
  title: string;
  sku: string;
  unitPriceMinor: number;
  quantity: number;
  lineTotalMinor: number;
}

export interface ShopPlan {
  shopId: string;
  shopName: string;
  fulfilment: FulfilmentPlan;
  /** Where the units are reserved: the shop's warehouse for delivery, the branch for pickup. */
  stockLocationId: string;
  lines: PlannedLine[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  totalMinor: number;
}

export interface UnavailableLine {
  productId: string;
  quantity: number;
  reason: UnavailableReason;
}

export interface CheckoutPlan {
  currency: string;
  shops: ShopPlan[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  totalMinor: number;
  /** Lines in the cart that cannot be bought now (left out of every amount). */
  unavailable: UnavailableLine[];
}

function fieldError(index: number, field: string, message: string): FieldError {
  return { field: `fulfilment.${index}.${field}`, in: "body", message };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Prices the buyer's cart as it stands, with the fulfilment chosen per shop. Every price is
 * read from the catalog now; nothing about money comes from the client. Refuses (409) an empty
 * cart, a cart of several currencies (a checkout is one PaymentIntent in one currency), and more
 * than MAX_SHOPS_PER_CHECKOUT shops; a fulfilment entry that is missing, names a shop not in the
 * cart, an address that is not the buyer's, or a location that is not a branch of that shop is
 * a 422 naming the field. Lines that cannot be bought are set aside in `unavailable`.
 */
export async function planCheckout(
  ctx: BuyingContext,
  buyerId: string,
  raw: CheckoutInput,
): Promise<CheckoutPlan> {
  const input = parseOr422(checkoutInput, raw);
  const { lines } = await loadCartLines(ctx.db, buyerId);
  if (lines.length === 0) {
    throw new Conflict("Your cart is empty: add products before checking out.", {
      reason: "cart_empty",
    });
  }
  const unavailable: UnavailableLine[] = [];
  const byShop = new Map<string, CartLineRow[]>();
  for (const line of lines) {
    if (line.unavailable) {
      unavailable.push({
        productId: line.productId,
        quantity: line.quantity,
        reason: line.unavailable,
      });
      continue;
    }
    byShop.set(line.shopId, [...(byShop.get(line.shopId) ?? []), line]);
  }
  if (byShop.size === 0) {
    throw new Conflict("Nothing in your cart can be bought now; remove the flagged lines.", {
      reason: "nothing_purchasable",
      unavailable,
    });
  }
  const currencies = [...new Set([...byShop.values()].flat().map((l) => l.currency))];
  if (currencies.length > 1) {
    throw new Conflict(
      `Your cart mixes currencies (${currencies.join(", ")}); a checkout is paid in one. ` +
        "Remove the lines of all but one currency and check out the rest afterwards.",
      { reason: "mixed_currencies", currencies },
    );
  }
  if (byShop.size > MAX_SHOPS_PER_CHECKOUT) {
    throw new Conflict(
      `One checkout takes products of at most ${MAX_SHOPS_PER_CHECKOUT} shops; this cart has ` +
        `${byShop.size}.`,
      { reason: "too_many_shops" },
    );
  }

  const errors: FieldError[] = [];
  const choiceOf = new Map<string, { choice: FulfilmentChoice; index: number }>();
  input.fulfilment.forEach((choice, index) => {
    if (!byShop.has(choice.shopId)) {
      errors.push(fieldError(index, "shopId", "is not a shop with purchasable lines in your cart"));
    } else {
      choiceOf.set(choice.shopId, { choice, index });
    }
  });
  for (const shopId of byShop.keys()) {
    if (!choiceOf.has(shopId)) {
      errors.push({
        field: "fulfilment",
        in: "body",
        message: `is missing an entry for shop ${shopId} (delivery with an addressId, or pickup with a locationId)`,
      });
    }
  }
  if (errors.length > 0) throw new ValidationFailed(errors);

  const addressIds = input.fulfilment.flatMap((c) =>
    c.method === "delivery" ? [c.addressId] : [],
  );
  const pickupIds = input.fulfilment.flatMap((c) => (c.method === "pickup" ? [c.locationId] : []));
  const [ownAddresses, pickupLocations, warehouses] = await Promise.all([
    addressIds.length === 0
      ? []
      : ctx.db
          .select()
          .from(addresses)
          .where(
            and(
              inArray(addresses.id, addressIds),
              eq(addresses.userId, buyerId),
              isNull(addresses.deletedAt),
            ),
          ),
    pickupIds.length === 0
      ? []
      : ctx.db
          .select()
          .from(shopLocations)
          .where(and(inArray(shopLocations.id, pickupIds), isNull(shopLocations.deletedAt))),
    ctx.db
      .select({ id: shopLocations.id, shopId: shopLocations.shopId })
      .from(shopLocations)
      .where(
        and(
          inArray(shopLocations.shopId, [...byShop.keys()]),
          eq(shopLocations.kind, "warehouse"),
          isNull(shopLocations.deletedAt),
        ),
      ),
  ]);

  const shops: ShopPlan[] = [];
  for (const [shopId, shopLines] of byShop) {
    const entry = choiceOf.get(shopId);
    const first = shopLines[0];
    if (!entry || !first) continue;
    const { choice, index } = entry;
    let fulfilment: FulfilmentPlan;
    let stockLocationId: string;
    if (choice.method === "delivery") {
      const a = ownAddresses.find((x) => x.id === choice.addressId);
      const warehouse = warehouses.find((w) => w.shopId === shopId);
      if (!a) {
        errors.push(fieldError(index, "addressId", "is not one of your addresses"));
        continue;
      }
      if (!warehouse) {
        throw new Conflict(`Shop ${shopId} cannot deliver right now; choose pickup.`, {
          reason: "no_warehouse",
          shopId,
        });
      }
      fulfilment = {
        method: "delivery",
        addressId: a.id,
        address: {
          recipientName: a.recipientName,
          line1: a.line1,
          line2: a.line2,
          city: a.city,
          region: a.region,
          postalCode: a.postalCode,
          country: a.country,
          phone: a.phone,
        },
      };
      stockLocationId = warehouse.id;
    } else {
      const l = pickupLocations.find((x) => x.id === choice.locationId);
      if (!l || l.shopId !== shopId || l.kind !== "branch") {
        errors.push(fieldError(index, "locationId", "is not a pickup branch of this shop"));
        continue;
      }
      fulfilment = { method: "pickup", locationId: l.id, locationName: l.name };
      stockLocationId = l.id;
    }
    const planned = shopLines.map(
      (l): PlannedLine => ({
        productId: l.productId,
        title: l.title,
        sku: l.sku,
        unitPriceMinor: l.priceMinor,
        quantity: l.quantity,
        lineTotalMinor: l.priceMinor * l.quantity,
      }),
    );
    const subtotalMinor = sum(planned.map((l) => l.lineTotalMinor));
    const delivery = deliveryFeeMinor(
      choice.method,
      subtotalMinor,
      deliveryRules(first, ctx.config),
    );
    shops.push({
      shopId,
      shopName: first.shopName,
      fulfilment,
      stockLocationId,
      lines: planned,
      subtotalMinor,
      deliveryFeeMinor: delivery,
      platformFeeMinor: 0,
      totalMinor: subtotalMinor + delivery,
    });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);

  const totalMinor = sum(shops.map((s) => s.totalMinor));
  if (totalMinor > MAX_AMOUNT_MINOR) {
    throw new Conflict("This checkout's total is too large for one payment; split the cart.", {
      reason: "amount_too_large",
    });
  }
  for (const s of shops)
    s.platformFeeMinor = platformFeeMinor(s.subtotalMinor, ctx.config.PLATFORM_FEE_BPS);
  return {
    currency: currencies[0] ?? "",
    shops,
    subtotalMinor: sum(shops.map((s) => s.subtotalMinor)),
    deliveryFeeMinor: sum(shops.map((s) => s.deliveryFeeMinor)),
    platformFeeMinor: sum(shops.map((s) => s.platformFeeMinor)),
    totalMinor,
    unavailable,
  };
}
