import { type AnyColumn, and, asc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Queryable, Tx } from "../../db/client.ts";
import { checkouts, type Order, orderItems, orders } from "../../db/schema/orders.ts";
import { digest } from "../../lib/cache.ts";
import { UUID_PATTERN } from "../../lib/ids.ts";

export type Checkout = typeof checkouts.$inferSelect;
export type OrderItem = typeof orderItems.$inferSelect;

/** A checkout with its orders (one per shop) and their lines: what one PaymentIntent pays for. */
export interface CheckoutBundle {
  checkout: Checkout;
  orders: Order[];
  items: OrderItem[];
}

/** Unpaid and still payable: Stripe lets the buyer retry a failed PaymentIntent. */
export const AWAITING_PAYMENT = ["pending_payment", "payment_failed"] as const;
/** Ended unpaid; a payment arriving now is a late success, refunded. */
export const ENDED_UNPAID = ["expired", "cancelled"] as const;

export function isAwaitingPayment(o: Pick<Order, "status">): boolean {
  return (AWAITING_PAYMENT as readonly string[]).includes(o.status);
}

/** Expired or cancelled before any payment was applied (a paid order cancelled later is not). */
export function endedUnpaid(o: Pick<Order, "status" | "paidAt">): boolean {
  return (ENDED_UNPAID as readonly string[]).includes(o.status) && o.paidAt === null;
}

/**
 * The checkout named by `checkoutId` has no flagged order. A flagged checkout (Stripe's intent
 * disagrees with it) is an admin's, through its payment issue: the sweeps leave it alone, or a
 * few of them, oldest first, would fill every batch and starve the newer checkouts behind them.
 */
export function checkoutNotFlagged(checkoutId: AnyColumn): SQL {
  return sql`not exists (select 1 from ${orders} as flagged_order where flagged_order.checkout_id = ${checkoutId} and flagged_order.flagged)`;
}

export async function loadCheckoutBundle(
  db: Queryable,
  checkoutId: string,
): Promise<CheckoutBundle | null> {
  const [checkout] = await db.select().from(checkouts).where(eq(checkouts.id, checkoutId));
  if (!checkout) return null;
  const os = await db
    .select()
    .from(orders)
    .where(eq(orders.checkoutId, checkoutId))
    .orderBy(asc(orders.id));
  const items =
    os.length === 0
      ? []
      : await db
          .select()
          .from(orderItems)
          .where(
            inArray(
              orderItems.orderId,
              os.map((o) => o.id),
            ),
          )
          .orderBy(asc(orderItems.id));
  return { checkout, orders: os, items };
}

/**
 * The checkout a PaymentIntent pays: by the id the checkout stored, or, before it stored it, by
 * the `checkout_id` Souk put in the intent's metadata. Null for an intent that is not Souk's.
 */
export async function findCheckoutForIntent(
  db: Queryable,
  intent: { id: string; metadata?: Record<string, string> | null },
): Promise<CheckoutBundle | null> {
  const [byIntent] = await db
    .select({ id: checkouts.id })
    .from(checkouts)
    .where(eq(checkouts.paymentIntentId, intent.id));
  if (byIntent) return loadCheckoutBundle(db, byIntent.id);
  const fromMetadata = intent.metadata?.checkout_id;
  if (fromMetadata && UUID_PATTERN.test(fromMetadata)) {
    return loadCheckoutBundle(db, fromMetadata);
  }
  return null;
}

/**
 * Locks a checkout and its orders for the rest of the transaction. Every writer of the money
 * path (webhook consumer, crons) takes this lock first, so two of them applying the same
 * payment run one after the other and the second sees what the first did.
 */
export async function lockCheckout(
  tx: Tx,
  checkoutId: string,
): Promise<{ checkout: Checkout; orders: Order[] } | null> {
  const [checkout] = await tx
    .select()
    .from(checkouts)
    .where(eq(checkouts.id, checkoutId))
    .for("update");
  if (!checkout) return null;
  const os = await tx
    .select()
    .from(orders)
    .where(eq(orders.checkoutId, checkoutId))
    .orderBy(asc(orders.id))
    .for("update");
  return { checkout, orders: os };
}

/** Sets the checkout's status (open → succeeded / canceled / expired) if it differs. */
export async function setCheckoutStatus(tx: Tx, checkout: Checkout, status: string): Promise<void> {
  if (checkout.status === status) return;
  await tx
    .update(checkouts)
    .set({ status, updatedAt: new Date() })
    .where(eq(checkouts.id, checkout.id));
}

/** The ids a PaymentIntent's metadata names (`order_ids` as a comma-separated list). */
export function metadataOrderIds(metadata: Record<string, string> | null | undefined): string[] {
  const raw = metadata?.order_ids;
  if (!raw) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Stripe's `payment_intent.created`: the intent's id is stored on the checkout its metadata
 * names. Confirm creates the intent while its one write is in flight and does not wait to store
 * the id (that would be a second round trip on the buyer's path); this event brings it instead.
 * When it arrives before the checkout committed, or for an intent whose checkout was never
 * written, nothing is stored: the payment path finds checkouts by metadata, and the deadline and
 * reconciliation sweeps recover ids they lack (payment-intents.ts `recoverIntentId`).
 */
export async function recordCheckoutIntent(
  db: Queryable,
  intent: { id: string; metadata: Record<string, unknown> | null | undefined },
): Promise<string> {
  const checkoutId = intent.metadata?.checkout_id;
  if (typeof checkoutId !== "string" || !UUID_PATTERN.test(checkoutId)) {
    return "ignored:not_a_souk_payment";
  }
  const stored = await db
    .update(checkouts)
    .set({ paymentIntentId: intent.id, updatedAt: new Date() })
    .where(and(eq(checkouts.id, checkoutId), isNull(checkouts.paymentIntentId)))
    .returning({ id: checkouts.id });
  return stored.length > 0 ? "recorded:intent" : "noop:no_checkout_without_intent";
}

/**
 * The one way a checkout gets its PaymentIntent, for a cart or buy-now confirm and for an
 * auction order alike: the checkout's amount and currency, its id as the transfer group, and the
 * metadata the webhooks find it by (`checkout_id`, `order_ids`, plus any extra such as
 * `auction_id`). Its Stripe idempotency key names the checkout and what the intent says, so the
 * same attempt gets the same intent and an attempt that planned differently never collides.
 */
export async function createCheckoutIntent(
  stripe: Stripe,
  c: {
    checkoutId: string;
    amountMinor: number;
    currency: string;
    orderIds: readonly string[];
    metadata?: Record<string, string>;
  },
): Promise<Stripe.PaymentIntent> {
  const params = {
    amount: c.amountMinor,
    currency: c.currency.toLowerCase(),
    transfer_group: c.checkoutId,
    automatic_payment_methods: { enabled: true },
    metadata: { ...c.metadata, checkout_id: c.checkoutId, order_ids: c.orderIds.join(",") },
  };
  const what = await digest([params.amount, params.currency, c.orderIds]);
  return stripe.paymentIntents.create(params, {
    idempotencyKey: `checkout:${c.checkoutId}:pi:${what}`,
  });
}
