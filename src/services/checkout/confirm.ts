import { and, eq, sql } from "drizzle-orm";
import { RESERVATION_TTL_MS } from "../../../durable-objects/product-stock/types.ts";
import { withAudit } from "../../db/audit.ts";
import { checkouts, idempotencyKeys } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import { namedUuid, namedUuidv7, uuidv7, uuidv7Time } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { Stripe } from "../../lib/stripe.ts";
import type { TaxLine } from "../../lib/tax.ts";
import { MAX_LINE_QUANTITY } from "../cart/lines.ts";
import type { ServiceContext } from "../context.ts";
import { bookCheckoutSlots, releaseCheckoutSlots, slotOfShop } from "../delivery/booking.ts";
import {
  AccountBlocked,
  Conflict,
  DomainError,
  IdempotencyKeyReused,
  InsufficientStock,
  PaymentFailed,
  RateLimited,
  Unauthenticated,
  ValidationFailed,
} from "../errors.ts";
import { type HeldLine, releaseReservations, reserveLines } from "../orders/reservations.ts";
import { transitionOrder } from "../orders/state-machine.ts";
import { createCheckoutIntent } from "../payments/checkouts.ts";
import { MAX_OPEN_CHECKOUTS } from "./limits.ts";
import {
  type CheckoutInput,
  type CheckoutSource,
  checkoutInput,
  type FulfilmentChoice,
  groupLines,
  notOnSale,
} from "./plan.ts";
import {
  deliveryFeeMinor,
  deliveryRules,
  MAX_AMOUNT_MINOR,
  platformFeeMinor,
  shopOrderTax,
} from "./pricing.ts";
import {
  cartKey,
  forgetSnapshots,
  listingKey,
  readCart,
  readListings,
  type SnapshotDeps,
  type SnapshotLine,
} from "./snapshots.ts";
import { purchaseStatements, type ReplacedRow } from "./write.ts";

/**
 * How much longer than the payment window a checkout's stock is held. The deadline cron expires
 * the orders and releases their holds at the deadline; the margin lets a payment that lands in
 * its last seconds still commit, and the hold still ends on its own if the cron never runs.
 */
export const RESERVATION_MARGIN_MS = 5 * 60 * 1000;

/** The route an Idempotency-Key of a confirm is scoped to. */
export const CONFIRM_ROUTE = "POST /v1/checkout/confirm";
/** How long a confirm's key answers with what it did. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface ConfirmedOrder {
  id: string;
  shopId: string;
  status: "pending_payment";
  currency: string;
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  /** Whether the prices include tax; if not, `taxMinor` is part of `totalMinor`. */
  pricesIncludeTax: boolean;
  taxMinor: number;
  /** Per rate: the net amount taxed at it and the tax. */
  taxLines: TaxLine[];
  totalMinor: number;
}

export interface ConfirmedCheckout {
  checkoutId: string;
  orders: ConfirmedOrder[];
  paymentIntentId: string;
  /** For Stripe.js / the Payment Element to confirm the payment in the buyer's browser. */
  clientSecret: string;
  /** Σ order totals: what the PaymentIntent charges. */
  amountMinor: number;
  currency: string;
  platformFeeMinor: number;
  /** Unpaid by then, the orders expire and the stock goes back. */
  paymentDeadline: string;
}

/** What the idempotency record keeps of a confirm: all of the answer but the PaymentIntent. */
type StoredCheckout = Omit<ConfirmedCheckout, "paymentIntentId" | "clientSecret">;

/** The request's Idempotency-Key and the hash of its body (http/middleware/idempotency.ts). */
export interface ConfirmKey {
  key: string;
  requestHash: string;
}

export interface ConfirmOutcome {
  checkout: ConfirmedCheckout;
  /** True when this answers what an earlier request with the same key already did. */
  replayed: boolean;
}

type Input = ReturnType<typeof checkoutInput.parse>;

/** The orders a confirm makes, each with its shop's plan and its items' derived ids. */
type Made = Array<{
  id: string;
  shop: ShopOrder;
  items: Array<{ id: string; line: SnapshotLine; taxMinor: number }>;
}>;

interface ShopOrder {
  shopId: string;
  choice: FulfilmentChoice;
  index: number;
  stockLocationId: string;
  stockLocationKind: "warehouse" | "branch";
  lines: SnapshotLine[];
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
  pricesIncludeTax: boolean;
  /** The tax of each line (in `lines` order), of the delivery, and their sum. */
  lineTaxMinor: number[];
  deliveryTaxRateBps: number;
  deliveryTaxMinor: number;
  taxMinor: number;
  taxLines: TaxLine[];
  totalMinor: number;
}

interface Plan {
  source: CheckoutSource;
  currency: string;
  shops: ShopOrder[];
  totalMinor: number;
  platformFeeMinor: number;
  /** The cart's version the plan was made from (cart checkouts). */
  cartVersion: string | null;
  /** Whether any of it came from Redis: a refused write then retries from Postgres. */
  fromCache: boolean;
}

/** A refusal raised inside the batched write by `souk_assert` (migrations/0012). */
class WriteRefused extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(code);
  }
}

/**
 * Turns the buyer's cart (or, with `items`, just those products: "buy now", leaving the cart as
 * it is) into orders and one PaymentIntent, waiting for ONE Postgres round trip:
 *
 * 1. the plan (prices, shops, fees, stock locations) comes from snapshots in Redis (a preview
 *    leaves the cart's there), or from Postgres when Redis lacks them;
 * 2. every line is held in its ProductStock object, all or nothing, under a key derived from
 *    (buyer, Idempotency-Key, attempt), so a retry finds the same holds instead of new ones;
 * 3. ONE batched transaction (Neon's HTTP `transaction`) writes the idempotency record, the
 *    checkout, one `pending_payment` order per shop with item snapshots, the audit rows and the
 *    cart change, and re-checks inside itself what the plan assumed: the buyer may buy, every
 *    price, currency, shop rule and location is still what the snapshot said, the address is
 *    the buyer's, the cart did not change. Any difference rolls it all back; a snapshot found
 *    stale is dropped and the purchase is planned again from Postgres, once;
 * 4. the PaymentIntent is created while that write is in flight (its Stripe idempotency key is
 *    derived from the checkout and its amount), so it adds no round trip of its own.
 *
 * A retry with the same key (after a crash, a timeout, or concurrently) derives the same
 * checkout: it either finishes the cut-off attempt (same holds, same ids, same PaymentIntent) or
 * finds the committed record and answers it again (`replayed`); never a second order. A Stripe
 * failure voids the checkout (holds released, orders cancelled, cart lines back, 402); the key
 * may then be retried, which makes attempt 2.
 */
export async function confirmCheckout(
  ctx: ServiceContext,
  buyerId: string,
  raw: CheckoutInput,
  key: ConfirmKey,
): Promise<ConfirmOutcome> {
  const input = parseOr422(checkoutInput, raw);
  return attempt(ctx, buyerId, input, key, 1, false);
}

async function attempt(
  ctx: ServiceContext,
  buyerId: string,
  input: Input,
  key: ConfirmKey,
  n: number,
  fresh: boolean,
): Promise<ConfirmOutcome> {
  const snapshots: SnapshotDeps = ctx;
  let plan: Plan;
  try {
    plan = await planFrom(ctx, snapshots, buyerId, input, fresh);
  } catch (err) {
    // A refusal drawn from cached snapshots is checked against Postgres before it is answered.
    if (!fresh && err instanceof DomainError) {
      return attempt(ctx, buyerId, input, key, n, true);
    }
    throw err;
  }

  const checkoutId = await namedUuid(`checkout|${buyerId}|${CONFIRM_ROUTE}|${key.key}|${n}`);
  const now = Date.now();
  const windowMs = ctx.config.PAYMENT_WINDOW_MINUTES * 60 * 1000;
  const paymentDeadline = new Date(now + windowMs);

  // 1. Hold the stock and book the chosen delivery windows, in parallel; all or nothing.
  const ttlMs = Math.min(windowMs + RESERVATION_MARGIN_MS, RESERVATION_TTL_MS.max);
  const [reserving, booking] = await Promise.allSettled([
    reserveLines(ctx.stock, {
      holder: checkoutId,
      lines: plan.shops.flatMap((s) =>
        s.lines.map((l) => ({
          productId: l.productId,
          shopId: s.shopId,
          locationId: s.stockLocationId,
          quantity: l.quantity,
        })),
      ),
      ttlMs,
      actor: ctx.actor,
      renew: true,
    }),
    bookCheckoutSlots(ctx, checkoutId, plan.shops, ttlMs),
  ]);
  const booked = booking.status === "fulfilled" && booking.value.ok ? booking.value.booked : [];
  const slotsFailed = booking.status === "rejected" || !booking.value.ok;
  if (reserving.status === "rejected" || !reserving.value.ok || slotsFailed) {
    // What one side took goes back when the other failed, as a failed stock hold's lines do.
    await releaseCheckoutSlots(ctx, checkoutId, booked, "the stock could not be held");
    if (reserving.status === "fulfilled" && reserving.value.ok) {
      await releaseQuietly(ctx, reserving.value.held, checkoutId);
    }
    if (reserving.status === "rejected") throw reserving.reason;
    if (booking.status === "rejected") throw booking.reason;
    if (!booking.value.ok && reserving.value.ok) throw booking.value.error;
  }
  const reserved = reserving.value;
  if (!reserved.ok) {
    const named = reserved.shortages.map(
      (s) => `${s.productId} (requested ${s.requested}, available ${s.available})`,
    );
    throw new InsufficientStock(`Not enough stock for: ${named.join("; ")}.`, {
      lines: reserved.shortages,
    });
  }
  const holdOf = new Map<string, HeldLine>(reserved.held.map((h) => [h.productId, h]));

  // Ids are derived, so a retry of a cut-off attempt writes (and asks Stripe for) the same ones;
  // each order's time is its first hold's, so orders still sort by when they were made.
  const made = await Promise.all(
    plan.shops.map(async (shop) => {
      const heldAt = Math.min(
        ...shop.lines.map((l) => uuidv7Time(holdOf.get(l.productId)?.reservationId ?? "")),
      );
      const orderId = await namedUuidv7(heldAt, `order|${checkoutId}|${shop.shopId}`);
      const items = await Promise.all(
        shop.lines.map(async (l, i) => ({
          id: await namedUuidv7(heldAt, `item|${orderId}|${l.productId}`),
          line: l,
          taxMinor: shop.lineTaxMinor[i] ?? 0,
        })),
      );
      return { id: orderId, shop, items };
    }),
  );
  const stored: StoredCheckout = {
    checkoutId,
    orders: made.map(({ id, shop }) => ({
      id,
      shopId: shop.shopId,
      status: "pending_payment",
      currency: plan.currency,
      subtotalMinor: shop.subtotalMinor,
      deliveryFeeMinor: shop.deliveryFeeMinor,
      platformFeeMinor: shop.platformFeeMinor,
      pricesIncludeTax: shop.pricesIncludeTax,
      taxMinor: shop.taxMinor,
      taxLines: shop.taxLines,
      totalMinor: shop.totalMinor,
    })),
    amountMinor: plan.totalMinor,
    currency: plan.currency,
    platformFeeMinor: plan.platformFeeMinor,
    paymentDeadline: paymentDeadline.toISOString(),
  };

  // 2 and 3 at once: the write, and the PaymentIntent.
  const sqlFn = ctx.http.$client;
  const statements = purchaseStatements(sqlFn, {
    actor: ctx.actor,
    buyerId,
    route: CONFIRM_ROUTE,
    key: key.key,
    requestHash: key.requestHash,
    attempt: n,
    stored,
    expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
    source: plan.source,
    currency: plan.currency,
    totalMinor: plan.totalMinor,
    platformFeeMinor: plan.platformFeeMinor,
    paymentDeadline,
    cartVersion: plan.cartVersion,
    orders: made,
    reservationOf: (productId) => holdOf.get(productId)?.reservationId ?? null,
    slotOf: slotOfShop(booked),
  });
  const [write, intent] = await Promise.allSettled([
    sqlFn.transaction(statements.statements),
    createIntent(ctx.stripe, stored),
  ]);
  const heldItems = reserved.held.map((h) => ({
    productId: h.productId,
    reservationId: h.reservationId,
  }));
  const newHolds = reserved.held
    .filter((h) => !h.replayed)
    .map((h) => ({ productId: h.productId, reservationId: h.reservationId }));

  if (write.status === "rejected") {
    const refusal = refusalOf(write.reason);
    if (refusal === "duplicate") {
      // The key was used before (a retry, or a twin racing this request). Which holds may go
      // back depends on whose record won: see answerExisting.
      return answerExisting(ctx, buyerId, input, key, intent, {
        checkoutId,
        held: heldItems,
        fresh: newHolds,
      });
    }
    if (refusal === null) {
      // Not known to have failed (a lost connection may follow a commit): the holds stay, to end
      // at their TTL or be found by the retry with the same key, which finishes or replays this.
      throw write.reason;
    }
    // Refused inside the transaction: nothing was written.
    await releaseQuietly(ctx, heldItems, checkoutId);
    await releaseCheckoutSlots(ctx, checkoutId, booked, "the purchase was refused");
    cancelIntentLater(ctx, intent);
    if (plan.fromCache && !fresh && STALE_SNAPSHOT.has(refusal.code)) {
      await forgetSnapshots(ctx, staleKeys(buyerId, plan));
      return attempt(ctx, buyerId, input, key, n, true);
    }
    throw refusalToError(refusal, made);
  }

  if (intent.status === "rejected") {
    const stripeError = describeStripeError(intent.reason);
    ctx.logger.warn("PaymentIntent could not be created; voiding the checkout", {
      checkoutId,
      ...stripeError,
    });
    await releaseCheckoutSlots(ctx, checkoutId, booked, "the checkout was voided");
    await voidCheckout(ctx, {
      checkoutId,
      buyerId,
      key,
      attempt: n,
      orderIds: made.map((m) => m.id),
      heldItems,
      bought: plan.source === "cart" ? boughtLines(plan) : [],
      reason: `payment_intent_failed: ${stripeError.type}${stripeError.code ? ` (${stripeError.code})` : ""}`,
    });
    throw new PaymentFailed(
      `The payment could not be set up: ${stripeError.message} Nothing was charged; the ` +
        (plan.source === "cart"
          ? "orders were cancelled and the items put back in your cart."
          : "orders were cancelled."),
      { checkoutId, stripe: stripeError },
    );
  }
  // The intent's id reaches the checkout through Stripe's `payment_intent.created` event (the
  // queue consumer stores it), not through a second statement here: the buyer waits for one
  // round trip. Until then the payment path finds the checkout by the intent's metadata.
  const pi = intent.value;
  letGoOfReplaced(ctx, checkoutId, write.value[statements.replaced] as ReplacedRow[] | undefined);
  return { checkout: withIntent(stored, pi), replayed: false };
}

/**
 * After the write voided the buyer's earlier unpaid checkouts of the same products (their orders
 * are cancelled already): their holds go back and their PaymentIntents are cancelled, after the
 * answer. Nothing is lost if this fails: a hold ends at its TTL, and a payment on a cancelled
 * order is a late success, refunded.
 */
function letGoOfReplaced(
  ctx: ServiceContext,
  checkoutId: string,
  rows: ReplacedRow[] | undefined,
): void {
  if (!rows || rows.length === 0) return;
  const holds = rows
    .filter((r) => r.kind === "hold" && r.product_id)
    .map((r) => ({ productId: r.product_id ?? "", reservationId: r.ref }));
  const intents = rows.filter((r) => r.kind === "intent").map((r) => r.ref);
  ctx.logger.info("a checkout replaced the buyer's unpaid ones", {
    checkoutId,
    orders: new Set(rows.map((r) => r.order_id)).size,
  });
  ctx.defer(
    Promise.all([
      releaseQuietly(ctx, holds, checkoutId),
      ...intents.map((id) =>
        cancelIntentQuietly(ctx, id, "could not cancel a replaced checkout's PaymentIntent"),
      ),
    ]),
  );
}

function withIntent(stored: StoredCheckout, pi: Stripe.PaymentIntent): ConfirmedCheckout {
  if (!pi.client_secret) throw new Error(`PaymentIntent ${pi.id} has no client secret`);
  return { ...stored, paymentIntentId: pi.id, clientSecret: pi.client_secret };
}

/** The checkout's PaymentIntent, made the one way every checkout's is. */
function createIntent(stripe: Stripe, c: StoredCheckout): Promise<Stripe.PaymentIntent> {
  return createCheckoutIntent(stripe, { ...c, orderIds: c.orders.map((o) => o.id) });
}

function cancelIntentLater(
  ctx: ServiceContext,
  intent: PromiseSettledResult<Stripe.PaymentIntent>,
): void {
  if (intent.status !== "fulfilled") return;
  // Harmless if it stays: nobody was given its client secret, and reconciliation ignores an
  // intent whose checkout does not exist.
  ctx.defer(cancelIntentQuietly(ctx, intent.value.id, "could not cancel an unused PaymentIntent"));
}

/** Cancels a PaymentIntent nobody should pay any more; a failure is logged, not thrown. */
async function cancelIntentQuietly(ctx: ServiceContext, id: string, failed: string) {
  try {
    await ctx.stripe.paymentIntents.cancel(id);
  } catch (err) {
    ctx.logger.warn(failed, {
      paymentIntentId: id,
      error: errorMessage(err),
    });
  }
}

/** Plans the purchase from snapshots (or, `fresh`, from Postgres). Pure but for the reads. */
async function planFrom(
  ctx: ServiceContext,
  snapshots: SnapshotDeps,
  buyerId: string,
  input: Input,
  fresh: boolean,
): Promise<Plan> {
  const source: CheckoutSource = input.items ? "items" : "cart";
  let lines: SnapshotLine[];
  let version: string | null = null;
  let fromCache: boolean;
  if (input.items) {
    const read = await readListings(
      snapshots,
      input.items.map((i) => i.productId),
      { fresh },
    );
    fromCache = read.fromCache;
    const errors = notOnSale(input.items, read.listings);
    if (errors.length > 0) throw new ValidationFailed(errors);
    lines = input.items.flatMap((item) => {
      const listing = read.listings.get(item.productId);
      return listing ? [{ ...listing, quantity: item.quantity }] : [];
    });
  } else {
    const read = await readCart(snapshots, buyerId, { fresh });
    fromCache = read.fromCache;
    version = read.cart.version;
    lines = read.cart.lines.flatMap((l) => {
      const listing = read.listings.get(l.productId);
      return listing ? [{ ...listing, quantity: l.quantity }] : [];
    });
  }
  if (lines.length === 0) {
    throw new Conflict("Your cart is empty: add products before checking out.", {
      reason: "cart_empty",
    });
  }
  const grouped = groupLines(
    lines.map((l) => ({ ...l, addedAt: new Date(0) })),
    input,
    source,
  );
  if (grouped.unavailable.length > 0) {
    const ids = grouped.unavailable.map((u) => u.productId).join(", ");
    throw new Conflict(
      source === "cart"
        ? `Some lines cannot be bought now (${ids}); remove them from the cart, preview again, ` +
            "then confirm."
        : `Some products cannot be bought now (${ids}); leave them out and confirm again.`,
      { reason: "unavailable_lines", lines: grouped.unavailable },
    );
  }
  const errors: Array<{ field: string; in: "body"; message: string }> = [];
  const shops: ShopOrder[] = [];
  for (const [shopId, shopLines] of grouped.byShop) {
    const entry = grouped.choiceOf.get(shopId);
    const first = shopLines[0];
    if (!entry || !first) continue;
    const { choice, index } = entry;
    let stockLocationId: string;
    if (choice.method === "delivery") {
      if (!first.warehouseId) {
        throw new Conflict(`Shop ${shopId} cannot deliver right now; choose pickup.`, {
          reason: "no_warehouse",
          shopId,
        });
      }
      stockLocationId = first.warehouseId;
    } else {
      if (!first.branches.some((b) => b.id === choice.locationId)) {
        errors.push({
          field: `fulfilment.${index}.locationId`,
          in: "body",
          message: "is not a pickup branch of this shop",
        });
        continue;
      }
      stockLocationId = choice.locationId;
    }
    const subtotalMinor = shopLines.reduce((a, l) => a + l.priceMinor * l.quantity, 0);
    const delivery = deliveryFeeMinor(
      choice.method,
      subtotalMinor,
      deliveryRules(first, ctx.config),
    );
    const tax = shopOrderTax(shopLines, delivery, first.tax);
    shops.push({
      shopId,
      choice,
      index,
      stockLocationId,
      stockLocationKind: choice.method === "delivery" ? "warehouse" : "branch",
      lines: shopLines,
      subtotalMinor,
      deliveryFeeMinor: delivery,
      platformFeeMinor: platformFeeMinor(subtotalMinor, ctx.config.PLATFORM_FEE_BPS),
      pricesIncludeTax: first.tax.pricesIncludeTax,
      lineTaxMinor: tax.lineTaxMinor,
      deliveryTaxRateBps: first.tax.shopRateBps,
      deliveryTaxMinor: tax.deliveryTaxMinor,
      taxMinor: tax.taxMinor,
      taxLines: tax.lines,
      totalMinor: subtotalMinor + delivery + tax.addedMinor,
    });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  const totalMinor = shops.reduce((a, s) => a + s.totalMinor, 0);
  if (totalMinor > MAX_AMOUNT_MINOR) {
    throw new Conflict("This checkout's total is too large for one payment; split the cart.", {
      reason: "amount_too_large",
    });
  }
  if (input.expectedTotalMinor !== undefined && input.expectedTotalMinor !== totalMinor) {
    throw new Conflict(
      `The total is now ${totalMinor} (minor units of ${grouped.currency}), not ` +
        `${input.expectedTotalMinor}: prices or fees changed. Preview again before confirming.`,
      { reason: "total_changed", expectedTotalMinor: input.expectedTotalMinor, totalMinor },
    );
  }
  return {
    source,
    currency: grouped.currency,
    shops,
    totalMinor,
    platformFeeMinor: shops.reduce((a, s) => a + s.platformFeeMinor, 0),
    cartVersion: version,
    fromCache,
  };
}

/** Codes that may mean a snapshot was stale: dropped, and the purchase planned afresh. */
const STALE_SNAPSHOT = new Set([
  "LISTING_CHANGED",
  "LOCATION_CHANGED",
  "CART_CHANGED",
  "ADDRESS_INVALID",
]);

function staleKeys(buyerId: string, plan: Plan): string[] {
  const keys = plan.shops.flatMap((s) => s.lines.map((l) => listingKey(l.productId)));
  return plan.source === "cart" ? [...keys, cartKey(buyerId)] : keys;
}

/**
 * What a failed batch says: `duplicate` (the key, or its checkout, exists: 23505), a guard's
 * refusal, or null when the failure does not show whether the transaction committed.
 */
function refusalOf(err: unknown): "duplicate" | WriteRefused | null {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const rec = e as { code?: unknown; message?: unknown; detail?: unknown; cause?: unknown };
    if (rec.code === "23505") return "duplicate";
    if (rec.code === "P0001" && typeof rec.message === "string") {
      return new WriteRefused(rec.message, typeof rec.detail === "string" ? rec.detail : "");
    }
    e = rec.cause;
  }
  return null;
}

function refusalToError(r: WriteRefused, made: Made): Error {
  switch (r.code) {
    case "BUYER_BLOCKED":
      return new AccountBlocked();
    case "BUYER_GONE":
      return new Unauthenticated("This account no longer exists.");
    case "ADDRESS_INVALID": {
      const refused = new Set(r.detail.split(","));
      return new ValidationFailed(
        made
          .filter((m) => refused.has(m.id))
          .map((m) => ({
            field: `fulfilment.${m.shop.index}.addressId`,
            in: "body" as const,
            message: "is not one of your addresses",
          })),
      );
    }
    case "TOO_MANY_OPEN_CHECKOUTS":
      return new RateLimited(Number(r.detail) || 60, {
        name: "open_checkouts",
        rule: `${MAX_OPEN_CHECKOUTS} unpaid checkouts at once (pay or let one lapse)`,
      });
    case "CART_CHANGED":
      return new Conflict(
        "Your cart changed while checking out (another checkout took these lines); preview again.",
        { reason: "cart_changed" },
      );
    default:
      return new Conflict(
        "Prices, shops or locations changed while checking out; preview again, then confirm.",
        { reason: "listing_changed" },
      );
  }
}

/**
 * The key was used before. Same body: answer what that request did (its checkout, and its
 * PaymentIntent, asked of Stripe again under the same idempotency key), or, if that attempt was
 * voided, make the next attempt. Another body: 422.
 */
async function answerExisting(
  ctx: ServiceContext,
  buyerId: string,
  input: Input,
  key: ConfirmKey,
  intent: PromiseSettledResult<Stripe.PaymentIntent>,
  ours: { checkoutId: string; held: HoldRef[]; fresh: HoldRef[] },
): Promise<ConfirmOutcome> {
  const row = await storedRecord(ctx, buyerId, key);
  // The holds of one attempt are keyed by its checkout id, which every twin of the attempt
  // derives alike. A record of this very checkout won: every hold here is its hold, even one
  // this request took first (its twin replayed it and wrote first), so nothing goes back. A
  // record of another attempt (or none we can read as done): this attempt's holds are its own.
  // The one exception is another body under the key: holds it replayed may be the other
  // body's, so only those taken afresh go back.
  const sameCheckout =
    row?.state === "done" &&
    row.requestHash === key.requestHash &&
    (row.responseBody as StoredCheckout | null)?.checkoutId === ours.checkoutId;
  if (!sameCheckout && row && row.state !== "in_progress") {
    const mine = row.requestHash === key.requestHash ? ours.held : ours.fresh;
    await releaseQuietly(ctx, mine, ours.checkoutId);
  }
  return answerRecord(ctx, buyerId, input, key, intent, row);
}

type HoldRef = { productId: string; reservationId: string };

async function storedRecord(ctx: ServiceContext, buyerId: string, key: ConfirmKey) {
  const [row] = await ctx.http
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, buyerId),
        eq(idempotencyKeys.route, CONFIRM_ROUTE),
        eq(idempotencyKeys.key, key.key),
      ),
    );
  return row;
}

async function answerRecord(
  ctx: ServiceContext,
  buyerId: string,
  input: Input,
  key: ConfirmKey,
  intent: PromiseSettledResult<Stripe.PaymentIntent>,
  row: Awaited<ReturnType<typeof storedRecord>>,
): Promise<ConfirmOutcome> {
  if (!row || row.state === "in_progress") {
    throw new Conflict(
      "A request with this Idempotency-Key is still being processed; retry shortly.",
      {
        reason: "idempotency_in_flight",
        retryAfterSeconds: 1,
      },
    );
  }
  if (row.requestHash !== key.requestHash) {
    cancelIntentLater(ctx, intent);
    throw new IdempotencyKeyReused();
  }
  if (row.state === "voided") {
    cancelIntentLater(ctx, intent);
    return attempt(ctx, buyerId, input, key, row.attempt + 1, false);
  }
  const stored = row.responseBody as StoredCheckout;
  let pi: Stripe.PaymentIntent;
  if (
    intent.status === "fulfilled" &&
    intent.value.metadata?.checkout_id === stored.checkoutId &&
    intent.value.amount === stored.amountMinor &&
    intent.value.metadata?.order_ids === stored.orders.map((o) => o.id).join(",")
  ) {
    pi = intent.value;
  } else {
    cancelIntentLater(ctx, intent);
    pi = await createIntent(ctx.stripe, stored);
  }
  return { checkout: withIntent(stored, pi), replayed: true };
}

interface BoughtLine {
  productId: string;
  quantity: number;
}

function boughtLines(plan: Plan): BoughtLine[] {
  return plan.shops.flatMap((s) =>
    s.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
  );
}

/** What a failed Stripe call says, without its request internals. */
function describeStripeError(err: unknown): { type: string; code: string | null; message: string } {
  const e = err as { type?: unknown; code?: unknown; message?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  return {
    type: typeof e?.type === "string" ? e.type : "unknown_error",
    code: typeof e?.code === "string" ? e.code : null,
    message: /[.!?]$/.test(message) ? message : `${message}.`,
  };
}

async function releaseQuietly(
  ctx: ServiceContext,
  items: Array<{ productId: string; reservationId: string }>,
  checkoutId: string,
): Promise<void> {
  if (items.length === 0) return;
  try {
    await releaseReservations(ctx.stock, items, ctx.actor);
  } catch (err) {
    // Not lost: every hold ends at its TTL by its object's alarm.
    ctx.logger.error("could not release a checkout's holds; they will expire", {
      checkoutId,
      error: errorMessage(err),
    });
  }
}

/**
 * Undoes a checkout whose PaymentIntent could not be made: its holds released, its orders
 * `cancelled` through the state machine (one `order.cancelled` audit row each), the checkout
 * `voided`, the bought lines back in the cart, and the key's record marked voided so a retry
 * with the same key makes the next attempt. `cancelled` rather than `payment_failed`: no
 * PaymentIntent was handed out, so there is nothing the buyer could retry. If Postgres fails
 * here too, the orders stay `pending_payment` without a PaymentIntent and the deadline cron
 * expires them; the holds were released first regardless.
 */
async function voidCheckout(
  ctx: ServiceContext,
  v: {
    checkoutId: string;
    buyerId: string;
    key: ConfirmKey;
    attempt: number;
    orderIds: string[];
    heldItems: Array<{ productId: string; reservationId: string }>;
    bought: BoughtLine[];
    reason: string;
  },
): Promise<void> {
  await releaseQuietly(ctx, v.heldItems, v.checkoutId);
  try {
    await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      // Checkout row first, then its orders: the order the payment path takes these locks in.
      await tx
        .update(checkouts)
        .set({ status: "voided", updatedAt: new Date() })
        .where(and(eq(checkouts.id, v.checkoutId), eq(checkouts.status, "open")));
      for (const orderId of v.orderIds) {
        await transitionOrder(tx, audit, {
          orderId,
          to: "cancelled",
          reason: v.reason,
          expectFrom: ["pending_payment"],
        });
      }
      await audit.record({
        action: "checkout.voided",
        entityType: "checkout",
        entityId: v.checkoutId,
        oldValue: { status: "open" },
        newValue: { status: "voided", reason: v.reason },
      });
      await tx
        .update(idempotencyKeys)
        .set({ state: "voided", responseStatus: 402 })
        .where(
          and(
            eq(idempotencyKeys.userId, v.buyerId),
            eq(idempotencyKeys.route, CONFIRM_ROUTE),
            eq(idempotencyKeys.key, v.key.key),
            eq(idempotencyKeys.attempt, v.attempt),
          ),
        );
      await putBackInCart(tx, v.buyerId, v.bought);
    });
  } catch (err) {
    ctx.logger.error("could not void a checkout; the deadline cron will expire its orders", {
      checkoutId: v.checkoutId,
      error: errorMessage(err),
    });
  }
}

/** Puts voided lines back (adding to a line the buyer re-added meanwhile, within the cap). */
async function putBackInCart(
  tx: Parameters<Parameters<typeof withAudit>[2]>[0],
  buyerId: string,
  bought: BoughtLine[],
): Promise<void> {
  if (bought.length === 0) return;
  const values = sql.join(
    bought.map((b) => sql`(${b.productId}::uuid, ${b.quantity}::int)`),
    sql`, `,
  );
  await tx.execute(sql`
    insert into carts (id, buyer_id) values (${uuidv7()}, ${buyerId})
    on conflict (buyer_id) do update set updated_at = now()`);
  await tx.execute(sql`
    with bought(product_id, quantity) as (values ${values})
    insert into cart_items (cart_id, product_id, quantity)
    select c.id, b.product_id, b.quantity from bought b, carts c where c.buyer_id = ${buyerId}
    on conflict (cart_id, product_id)
    do update set quantity = least(cart_items.quantity + excluded.quantity, ${MAX_LINE_QUANTITY})`);
}
