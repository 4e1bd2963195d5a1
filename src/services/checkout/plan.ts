import { and, eq, inArray, isNull, or } from "drizzle-orm";
import { z } from "zod";
import { addresses } from "../../db/schema/addresses.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { TaxLine } from "../../lib/tax.ts";
import {
  type CartLineRow,
  loadCartLines,
  loadProductLines,
  MAX_CART_LINES,
  MAX_LINE_QUANTITY,
  type UnavailableReason,
} from "../cart/lines.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, type FieldError, ValidationFailed } from "../errors.ts";
import { maxPerBuyerOf } from "./limits.ts";
import {
  deliveryFeeMinor,
  deliveryRules,
  MAX_AMOUNT_MINOR,
  platformFeeMinor,
  shopOrderTax,
} from "./pricing.ts";
import { type ListingTax, loadListingTaxes } from "./snapshots.ts";

/**
 * Most shops (so orders) in one checkout. Stripe metadata values hold 500 characters and the
 * PaymentIntent carries every order id: 10 × 37 fits with room to spare.
 */
export const MAX_SHOPS_PER_CHECKOUT = 10;

export const fulfilmentChoice = z.discriminatedUnion("method", [
  z.object({
    shopId: z.uuid(),
    method: z.literal("delivery"),
    /** One of the buyer's addresses (`/v1/me/addresses`). */
    addressId: z.uuid(),
    /**
     * Optional: the start of one of the shop's delivery windows
     * (`GET /v1/shops/{id}/delivery-slots`, or the preview's `deliverySlots`), booked by confirm.
     */
    slotStart: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({
    shopId: z.uuid(),
    method: z.literal("pickup"),
    /** A branch location of that shop. */
    locationId: z.uuid(),
  }),
]);
export type FulfilmentChoice = z.infer<typeof fulfilmentChoice>;

/**
 * "Buy now": the products to buy, instead of the cart. One entry per product, as a cart has one
 * line per product (each is held in its object under one key per checkout).
 */
export const buyNowItems = z
  .array(
    z.object({
      productId: z.uuid(),
      quantity: z.int().min(1).max(MAX_LINE_QUANTITY),
    }),
  )
  .min(1)
  .max(MAX_CART_LINES)
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.productId)) {
        ctx.addIssue({
          code: "custom",
          message: "this product is listed twice; give one entry with the total quantity",
          path: [i, "productId"],
        });
      }
      seen.add(item.productId);
    });
  });

export const checkoutInput = z.object({
  /**
   * What to buy when the buyer does not check out the cart ("Buy now"). Given: exactly these
   * products and quantities are priced and bought, and the cart is neither read nor changed.
   * Absent: the cart is checked out.
   */
  items: buyNowItems.optional(),
  /** One entry per shop being bought from: how that shop's order reaches the buyer. */
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
  /** The line's tax rate (basis points) and its tax, rounded for the line. */
  taxRateBps: number;
  taxMinor: number;
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
  /** Whether the shop's prices (and delivery fee) include tax; if not, the tax is added. */
  pricesIncludeTax: boolean;
  /** Σ the lines' and the delivery's tax. */
  taxMinor: number;
  /** The tax per rate: the net amount taxed at it and the tax. */
  taxLines: TaxLine[];
  /** subtotal + delivery (+ tax when prices exclude it). */
  totalMinor: number;
}

export interface UnavailableLine {
  productId: string;
  quantity: number;
  reason: UnavailableReason;
}

/** Where a checkout's lines come from: the buyer's cart, or the request's `items` (buy now). */
export type CheckoutSource = "cart" | "items";

export interface CheckoutPlan {
  source: CheckoutSource;
  currency: string;
  shops: ShopPlan[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  /** Σ the orders' tax (included in or added to their totals, per shop). */
  taxMinor: number;
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
 * Prices the buyer's cart as it stands (or, with `items`, exactly those products: "buy now"),
 * with the fulfilment chosen per shop. Every price is read from the catalog now; nothing about
 * money comes from the client. Refuses (409) an empty cart, a checkout of several currencies (a
 * checkout is one PaymentIntent in one currency), and more than MAX_SHOPS_PER_CHECKOUT shops; a
 * fulfilment entry that is missing, names a shop not being bought from, an address that is not
 * the buyer's, or a location that is not a branch of that shop is a 422 naming the field, as is
 * an item naming a product the buyer cannot see. Lines that cannot be bought are set aside in
 * `unavailable`.
 */
export async function planCheckout(
  ctx: ServiceContext,
  buyerId: string,
  raw: CheckoutInput,
): Promise<CheckoutPlan> {
  const input = parseOr422(checkoutInput, raw);
  const source: CheckoutSource = input.items ? "items" : "cart";
  const lines = input.items
    ? await itemLines(ctx, input.items)
    : (await loadCartLines(ctx.db, buyerId)).lines;
  if (lines.length === 0) {
    throw new Conflict("Your cart is empty: add products before checking out.", {
      reason: "cart_empty",
    });
  }
  const { byShop, unavailable, currency, choiceOf } = groupLines(lines, input, source);

  const addressIds = input.fulfilment.flatMap((c) =>
    c.method === "delivery" ? [c.addressId] : [],
  );
  const pickupIds = input.fulfilment.flatMap((c) => (c.method === "pickup" ? [c.locationId] : []));
  // One query at a time, so a request needs one connection: a second one costs a Postgres
  // startup (a round trip and a backend) for one small read, and where connections are capped per
  // session (the local bridge) requests each holding one while waiting for another stall one
  // another until an idle timeout frees a slot (the stock benchmark found it at N ≥ 64).
  const ownAddresses =
    addressIds.length === 0
      ? []
      : await ctx.db
          .select()
          .from(addresses)
          .where(
            and(
              inArray(addresses.id, addressIds),
              eq(addresses.userId, buyerId),
              isNull(addresses.deletedAt),
            ),
          );
  // The pickup branches named and every shop's warehouse, in one read.
  const locations = await ctx.db
    .select()
    .from(shopLocations)
    .where(
      and(
        isNull(shopLocations.deletedAt),
        or(
          pickupIds.length === 0 ? undefined : inArray(shopLocations.id, pickupIds),
          and(
            inArray(shopLocations.shopId, [...byShop.keys()]),
            eq(shopLocations.kind, "warehouse"),
          ),
        ),
      ),
    );
  const errors: FieldError[] = [];
  const taxes = await loadListingTaxes(
    ctx.db,
    [...byShop.values()].flat().map((l) => l.productId),
  );
  const taxOf = (productId: string): ListingTax =>
    taxes.get(productId) ?? { pricesIncludeTax: false, rateBps: 0, shopRateBps: 0 };
  const pickupLocations = locations.filter((l) => pickupIds.includes(l.id));
  const warehouses = locations.filter((l) => l.kind === "warehouse" && byShop.has(l.shopId));

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
      if (!l || l.shopId !== shopId || l.kind !== "branch" || !l.pickupEnabled) {
        errors.push(fieldError(index, "locationId", "is not a pickup branch of this shop"));
        continue;
      }
      fulfilment = { method: "pickup", locationId: l.id, locationName: l.name };
      stockLocationId = l.id;
    }
    const taxed = shopLines.map((l) => ({ ...l, tax: taxOf(l.productId) }));
    const subtotalMinor = sum(shopLines.map((l) => l.priceMinor * l.quantity));
    const delivery = deliveryFeeMinor(
      choice.method,
      subtotalMinor,
      deliveryRules(first, ctx.config),
    );
    const shopTax = taxOf(first.productId);
    const tax = shopOrderTax(taxed, delivery, shopTax);
    const planned = taxed.map(
      (l, i): PlannedLine => ({
        productId: l.productId,
        title: l.title,
        sku: l.sku,
        unitPriceMinor: l.priceMinor,
        quantity: l.quantity,
        lineTotalMinor: l.priceMinor * l.quantity,
        taxRateBps: l.tax.rateBps,
        taxMinor: tax.lineTaxMinor[i] ?? 0,
      }),
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
      pricesIncludeTax: shopTax.pricesIncludeTax,
      taxMinor: tax.taxMinor,
      taxLines: tax.lines,
      totalMinor: subtotalMinor + delivery + tax.addedMinor,
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
    source,
    currency,
    shops,
    subtotalMinor: sum(shops.map((s) => s.subtotalMinor)),
    deliveryFeeMinor: sum(shops.map((s) => s.deliveryFeeMinor)),
    platformFeeMinor: sum(shops.map((s) => s.platformFeeMinor)),
    taxMinor: sum(shops.map((s) => s.taxMinor)),
    totalMinor,
    unavailable,
  };
}

/** The lines of a checkout grouped by shop, each shop matched with its fulfilment choice. */
export interface GroupedLines<L extends CartLineRow> {
  byShop: Map<string, L[]>;
  unavailable: UnavailableLine[];
  currency: string;
  choiceOf: Map<string, { choice: FulfilmentChoice; index: number }>;
}

/**
 * Sets aside the lines that cannot be bought, groups the rest by shop and matches each shop with
 * its fulfilment entry. Refuses (409) nothing purchasable, mixed currencies and too many shops;
 * a fulfilment entry for a shop not being bought from, or a shop without one, is a 422.
 */
export function groupLines<L extends CartLineRow>(
  lines: readonly L[],
  input: { fulfilment: FulfilmentChoice[] },
  source: CheckoutSource,
): GroupedLines<L> {
  const unavailable: UnavailableLine[] = [];
  const byShop = new Map<string, L[]>();
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
  const where = source === "cart" ? "your cart" : "`items`";
  if (byShop.size === 0) {
    throw new Conflict(
      source === "cart"
        ? "Nothing in your cart can be bought now; remove the flagged lines."
        : "None of these products can be bought now.",
      { reason: "nothing_purchasable", unavailable },
    );
  }
  const currencies = [...new Set([...byShop.values()].flat().map((l) => l.currency))];
  if (currencies.length > 1) {
    throw new Conflict(
      `${source === "cart" ? "Your cart mixes" : "These products are priced in"} currencies ` +
        `(${currencies.join(", ")}); a checkout is paid in one. Buy the products of one ` +
        "currency now and the rest afterwards.",
      { reason: "mixed_currencies", currencies },
    );
  }
  const overLimit = [...byShop.values()].flat().filter((l) => l.quantity > maxPerBuyerOf(l));
  if (overLimit.length > 0) {
    throw new Conflict(
      `One buyer may hold at most ${overLimit
        .map((l) => `${maxPerBuyerOf(l)} of ${l.productId}`)
        .join(", ")} at once (over all unpaid checkouts: a new checkout of a product replaces ` +
        "your unpaid one).",
      {
        reason: "per_buyer_limit",
        lines: overLimit.map((l) => ({
          productId: l.productId,
          requested: l.quantity,
          limit: maxPerBuyerOf(l),
        })),
      },
    );
  }
  if (byShop.size > MAX_SHOPS_PER_CHECKOUT) {
    throw new Conflict(
      `One checkout takes products of at most ${MAX_SHOPS_PER_CHECKOUT} shops; ${where} has ` +
        `${byShop.size}.`,
      { reason: "too_many_shops" },
    );
  }

  const errors: FieldError[] = [];
  const choiceOf = new Map<string, { choice: FulfilmentChoice; index: number }>();
  input.fulfilment.forEach((choice, index) => {
    if (!byShop.has(choice.shopId)) {
      errors.push(fieldError(index, "shopId", `is not a shop with purchasable lines in ${where}`));
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
  return { byShop, unavailable, currency: currencies[0] ?? "", choiceOf };
}

/**
 * The lines of a buy-now. A product the buyer could not see in the catalog (unknown, deleted,
 * unpublished, or of a hidden shop) is a 422 naming its entry, with one message for all of them
 * so a hidden shop's products cannot be told from ids that never existed (invariant 5). A
 * product that is visible but cannot be bought now (an auction listing, a paused shop) is
 * flagged like a cart line: a preview warns, a confirm refuses.
 */
async function itemLines(
  ctx: ServiceContext,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
): Promise<CartLineRow[]> {
  const { lines } = await loadProductLines(ctx.db, items);
  const seen = new Map(lines.map((l) => [l.productId, l]));
  const errors: FieldError[] = [];
  errors.push(...notOnSale(items, seen));
  if (errors.length > 0) throw new ValidationFailed(errors);
  return lines;
}

/**
 * The `items` a buyer cannot see (unknown, deleted, unpublished, or of a hidden shop), as 422
 * fields with one message for all of them, so a hidden shop's products cannot be told from ids
 * that never existed (invariant 5). Shared by preview's and confirm's buy-now lines.
 */
export function notOnSale(
  items: ReadonlyArray<{ productId: string }>,
  lines: ReadonlyMap<string, { unavailable: UnavailableReason | null }>,
): FieldError[] {
  return items.flatMap((item, i) => {
    const line = lines.get(item.productId);
    const hidden =
      !line ||
      line.unavailable === "shop_unavailable" ||
      line.unavailable === "product_unavailable";
    return hidden
      ? [
          {
            field: `items.${i}.productId`,
            in: "body" as const,
            message: "is not a product on sale",
          },
        ]
      : [];
  });
}
