import { and, eq, sql } from "drizzle-orm";
import { RESERVATION_TTL_MS } from "../../../durable-objects/product-stock/types.ts";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { checkouts, orderItems, orders } from "../../db/schema/orders.ts";
import { uuidv7 } from "../../lib/ids.ts";
import type { Stripe } from "../../lib/stripe.ts";
import { requireCanBuy } from "../cart/context.ts";
import { MAX_LINE_QUANTITY } from "../cart/lines.ts";
import { Conflict, InsufficientStock } from "../errors.ts";
import { parseOr422 } from "../inventory/input.ts";
import { type HeldLine, releaseReservations, reserveLines } from "../orders/reservations.ts";
import { transitionOrder } from "../orders/state-machine.ts";
import { PaymentFailed } from "./errors.ts";
import { type CheckoutContext, type CheckoutInput, checkoutInput, planCheckout } from "./plan.ts";

/**
 * How much longer than the payment window a checkout's stock is held. The deadline cron expires
 * the orders and releases their holds at the deadline; the margin lets a payment that lands in
 * its last seconds still commit, and the hold still ends on its own if the cron never runs.
 */
export const RESERVATION_MARGIN_MS = 5 * 60 * 1000;

export interface ConfirmedOrder {
  id: string;
  shopId: string;
  status: "pending_payment";
  currency: string;
  subtotalMinor: number;
  deliveryFeeMinor: number;
  platformFeeMinor: number;
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

/** The Stripe idempotency key of a checkout's PaymentIntent: a retry never makes a second one. */
export function paymentIntentKey(checkoutId: string): string {
  return `checkout:${checkoutId}:pi`;
}

interface BoughtLine {
  productId: string;
  quantity: number;
}

/**
 * Turns the buyer's cart (or, with `items`, just those products: "buy now", leaving the cart as
 * it is) into orders and one PaymentIntent:
 *
 * 1. every line is reserved in its ProductStock object (key: checkout + product), all or
 *    nothing; a shortage releases whatever was held and answers 409 INSUFFICIENT_STOCK naming
 *    each short line;
 * 2. one transaction writes the checkout, one `pending_payment` order per shop with item
 *    snapshots (title, SKU, unit price, quantity, location, reservation), the payment deadline,
 *    an `order.created` audit row per order, and takes the bought lines out of the cart (a buy
 *    now leaves it alone);
 * 3. one PaymentIntent for the total (`transfer_group` = checkout id, metadata with the order
 *    ids, Stripe idempotency key from the checkout id), saved on the checkout.
 *
 * A Stripe failure (refusal, or unreachable after the SDK's retries) voids the checkout: holds
 * released, orders `cancelled`, cart lines put back in the cart, then 402 PAYMENT_FAILED. A crash
 * between steps loses nothing: holds end at their TTL by the object's alarm, and orders without
 * a PaymentIntent are expired at their deadline by the deadline cron.
 *
 * Not idempotent by itself (every call is a new checkout): the route puts it behind the
 * Idempotency-Key middleware.
 */
export async function confirmCheckout(
  ctx: CheckoutContext,
  buyerId: string,
  raw: CheckoutInput,
): Promise<ConfirmedCheckout> {
  const input = parseOr422(checkoutInput, raw);
  await requireCanBuy(ctx.db, buyerId);
  const plan = await planCheckout(ctx, buyerId, input);
  if (plan.unavailable.length > 0) {
    const ids = plan.unavailable.map((u) => u.productId).join(", ");
    throw new Conflict(
      plan.source === "cart"
        ? `Some lines cannot be bought now (${ids}); remove them from the cart, preview again, ` +
            "then confirm."
        : `Some products cannot be bought now (${ids}); leave them out and confirm again.`,
      { reason: "unavailable_lines", lines: plan.unavailable },
    );
  }
  if (input.expectedTotalMinor !== undefined && input.expectedTotalMinor !== plan.totalMinor) {
    throw new Conflict(
      `The total is now ${plan.totalMinor} (minor units of ${plan.currency}), not ` +
        `${input.expectedTotalMinor}: prices or fees changed. Preview again before confirming.`,
      {
        reason: "total_changed",
        expectedTotalMinor: input.expectedTotalMinor,
        totalMinor: plan.totalMinor,
      },
    );
  }

  const checkoutId = uuidv7();
  const now = Date.now();
  const windowMs = ctx.config.PAYMENT_WINDOW_MINUTES * 60 * 1000;
  const paymentDeadline = new Date(now + windowMs);
  const stock = { PRODUCT_STOCK: ctx.stock };

  // 1. Hold the stock.
  const reserved = await reserveLines(stock, {
    holder: checkoutId,
    lines: plan.shops.flatMap((s) =>
      s.lines.map((l) => ({
        productId: l.productId,
        shopId: s.shopId,
        locationId: s.stockLocationId,
        quantity: l.quantity,
      })),
    ),
    ttlMs: Math.min(windowMs + RESERVATION_MARGIN_MS, RESERVATION_TTL_MS.max),
    actor: ctx.actor,
  });
  if (!reserved.ok) {
    const named = reserved.shortages.map(
      (s) => `${s.productId} (requested ${s.requested}, available ${s.available})`,
    );
    throw new InsufficientStock(`Not enough stock for: ${named.join("; ")}.`, {
      lines: reserved.shortages,
    });
  }
  const holdOf = new Map<string, HeldLine>(reserved.held.map((h) => [h.productId, h]));
  const heldItems = reserved.held.map((h) => ({
    productId: h.productId,
    reservationId: h.reservationId,
  }));
  // What leaves the cart now and comes back if the payment cannot be set up: nothing for a buy
  // now, which never touches the cart.
  const bought: BoughtLine[] =
    plan.source === "cart"
      ? plan.shops.flatMap((s) =>
          s.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
        )
      : [];

  // 2. The checkout, its orders and their audit rows, in one transaction.
  const made = plan.shops.map((s) => ({ id: uuidv7(), shop: s }));
  try {
    await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      await tx.insert(checkouts).values({
        id: checkoutId,
        buyerId,
        currency: plan.currency,
        amountMinor: plan.totalMinor,
        platformFeeMinor: plan.platformFeeMinor,
        transferGroup: checkoutId,
        status: "open",
        paymentDeadline,
      });
      await tx.insert(orders).values(
        made.map(({ id, shop }) => ({
          id,
          checkoutId,
          buyerId,
          shopId: shop.shopId,
          status: "pending_payment" as const,
          source: "checkout",
          currency: plan.currency,
          subtotalMinor: shop.subtotalMinor,
          deliveryFeeMinor: shop.deliveryFeeMinor,
          platformFeeMinor: shop.platformFeeMinor,
          totalMinor: shop.totalMinor,
          fulfilment: shop.fulfilment.method,
          pickupLocationId: shop.fulfilment.method === "pickup" ? shop.fulfilment.locationId : null,
          shippingAddress: shop.fulfilment.method === "delivery" ? shop.fulfilment.address : null,
          paymentDeadline,
        })),
      );
      await tx.insert(orderItems).values(
        made.flatMap(({ id, shop }) =>
          shop.lines.map((l) => ({
            id: uuidv7(),
            orderId: id,
            productId: l.productId,
            title: l.title,
            sku: l.sku,
            unitPriceMinor: l.unitPriceMinor,
            quantity: l.quantity,
            locationId: shop.stockLocationId,
            reservationId: holdOf.get(l.productId)?.reservationId ?? null,
          })),
        ),
      );
      await audit.record({
        action: "checkout.created",
        entityType: "checkout",
        entityId: checkoutId,
        newValue: {
          status: "open",
          source: plan.source,
          currency: plan.currency,
          amountMinor: plan.totalMinor,
          platformFeeMinor: plan.platformFeeMinor,
          orderIds: made.map((m) => m.id),
        },
      });
      for (const { id, shop } of made) {
        await audit.record({
          action: "order.created",
          entityType: "order",
          entityId: id,
          newValue: {
            status: "pending_payment",
            checkoutId,
            shopId: shop.shopId,
            currency: plan.currency,
            totalMinor: shop.totalMinor,
            paymentDeadline: paymentDeadline.toISOString(),
          },
        });
      }
      await takeOutOfCart(tx, buyerId, bought);
    });
  } catch (err) {
    await releaseQuietly(ctx, heldItems, checkoutId);
    throw err;
  }

  // 3. One PaymentIntent for the whole checkout.
  const orderIds = made.map((m) => m.id);
  let intent: Stripe.PaymentIntent;
  try {
    intent = await ctx.stripe.paymentIntents.create(
      {
        amount: plan.totalMinor,
        currency: plan.currency.toLowerCase(),
        transfer_group: checkoutId,
        automatic_payment_methods: { enabled: true },
        metadata: { checkout_id: checkoutId, order_ids: orderIds.join(",") },
      },
      { idempotencyKey: paymentIntentKey(checkoutId) },
    );
  } catch (err) {
    const stripeError = describeStripeError(err);
    ctx.logger.warn("PaymentIntent could not be created; voiding the checkout", {
      checkoutId,
      ...stripeError,
    });
    await voidCheckout(ctx, {
      checkoutId,
      buyerId,
      orderIds,
      heldItems,
      bought,
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
  if (!intent.client_secret) throw new Error(`PaymentIntent ${intent.id} has no client secret`);
  try {
    await ctx.db
      .update(checkouts)
      .set({ paymentIntentId: intent.id, updatedAt: new Date() })
      .where(eq(checkouts.id, checkoutId));
  } catch (err) {
    // The buyer can still pay: the payment path finds the checkout through the intent's
    // metadata (checkout_id). Failing here instead would strand a live intent with no client.
    ctx.logger.error("could not save the PaymentIntent id on its checkout", {
      checkoutId,
      paymentIntentId: intent.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  return {
    checkoutId,
    orders: made.map(({ id, shop }) => ({
      id,
      shopId: shop.shopId,
      status: "pending_payment",
      currency: plan.currency,
      subtotalMinor: shop.subtotalMinor,
      deliveryFeeMinor: shop.deliveryFeeMinor,
      platformFeeMinor: shop.platformFeeMinor,
      totalMinor: shop.totalMinor,
    })),
    paymentIntentId: intent.id,
    clientSecret: intent.client_secret,
    amountMinor: plan.totalMinor,
    currency: plan.currency,
    platformFeeMinor: plan.platformFeeMinor,
    paymentDeadline: paymentDeadline.toISOString(),
  };
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
  ctx: CheckoutContext,
  items: Array<{ productId: string; reservationId: string }>,
  checkoutId: string,
): Promise<void> {
  try {
    await releaseReservations({ PRODUCT_STOCK: ctx.stock }, items, ctx.actor);
  } catch (err) {
    // Not lost: every hold ends at its TTL by its object's alarm.
    ctx.logger.error("could not release a checkout's holds; they will expire", {
      checkoutId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * Undoes a checkout whose PaymentIntent could not be made: its holds released, its orders
 * `cancelled` through the state machine (one `order.cancelled` audit row each), the checkout
 * `voided`, and the bought lines back in the cart. `cancelled` rather than `payment_failed`:
 * no PaymentIntent was handed out, so there is nothing the buyer could retry; a new confirm makes
 * a new checkout. If Postgres fails here too, the orders stay `pending_payment` without a
 * PaymentIntent and the deadline cron expires them; the holds were released first regardless.
 */
async function voidCheckout(
  ctx: CheckoutContext,
  v: {
    checkoutId: string;
    buyerId: string;
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
      await putBackInCart(tx, v.buyerId, v.bought);
    });
  } catch (err) {
    ctx.logger.error("could not void a checkout; the deadline cron will expire its orders", {
      checkoutId: v.checkoutId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

function boughtValues(bought: BoughtLine[]) {
  return sql.join(
    bought.map((b) => sql`(${b.productId}::uuid, ${b.quantity}::int)`),
    sql`, `,
  );
}

/**
 * Takes the bought quantities out of the buyer's cart: a line the buyer grew meanwhile (another
 * tab) keeps the difference, the rest go. The cart is the buyer's statement of what to buy, so
 * two confirms of one cart under two keys (a double submit) must not both buy it: the cart row
 * lock serializes them here, and the second finds its lines gone and rolls back (409).
 */
async function takeOutOfCart(tx: Tx, buyerId: string, bought: BoughtLine[]): Promise<void> {
  if (bought.length === 0) return;
  await tx.execute(sql`select id from carts where buyer_id = ${buyerId} for update`);
  const left = await tx.execute<{ product_id: string; quantity: number }>(sql`
    with bought(product_id, quantity) as (values ${boughtValues(bought)})
    update cart_items ci set quantity = ci.quantity - b.quantity
    from bought b, carts c
    where c.id = ci.cart_id and c.buyer_id = ${buyerId} and ci.product_id = b.product_id
    returning ci.product_id, ci.quantity`);
  const remaining = new Map(left.rows.map((r) => [r.product_id, Number(r.quantity)]));
  const gone = bought.filter((b) => (remaining.get(b.productId) ?? -1) < 0);
  if (gone.length > 0) {
    throw new Conflict(
      "Your cart changed while checking out (another checkout took these lines); preview again.",
      { reason: "cart_changed", productIds: gone.map((b) => b.productId) },
    );
  }
  await tx.execute(sql`
    delete from cart_items ci using carts c
    where c.id = ci.cart_id and c.buyer_id = ${buyerId} and ci.quantity <= 0`);
  await tx.execute(sql`update carts set updated_at = now() where buyer_id = ${buyerId}`);
}

/** Puts voided lines back (adding to a line the buyer re-added meanwhile, within the cap). */
async function putBackInCart(tx: Tx, buyerId: string, bought: BoughtLine[]): Promise<void> {
  if (bought.length === 0) return;
  await tx.execute(sql`
    insert into carts (id, buyer_id) values (${uuidv7()}, ${buyerId})
    on conflict (buyer_id) do update set updated_at = now()`);
  await tx.execute(sql`
    with bought(product_id, quantity) as (values ${boughtValues(bought)})
    insert into cart_items (cart_id, product_id, quantity)
    select c.id, b.product_id, b.quantity from bought b, carts c where c.buyer_id = ${buyerId}
    on conflict (cart_id, product_id)
    do update set quantity = least(cart_items.quantity + excluded.quantity, ${MAX_LINE_QUANTITY})`);
}
